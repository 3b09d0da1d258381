package io.xdyna.gateway;

import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The gateway's settings.
 *
 * @param common broker, object store, topics
 * @param host {@code XDYNA_HTTP_HOST}, default {@code 0.0.0.0}
 * @param port {@code XDYNA_HTTP_PORT}, default 8080
 * @param keys {@code XDYNA_API_KEYS}: {@code tenant:key,...}; required
 * @param maxUploadBytes {@code XDYNA_MAX_UPLOAD_MB} (default 512) for one request's files together
 * @param uploadDir {@code XDYNA_UPLOAD_DIR}: where uploads are spooled before going to the store
 * @param presignTtl {@code XDYNA_PRESIGN_TTL_SECONDS} (default 900): lifetime of download links
 */
public record GatewayConfig(CommonConfig common, String host, int port, ApiKeys keys, long maxUploadBytes,
        Path uploadDir, Duration presignTtl) {

    public static GatewayConfig from(Env env) {
        return new GatewayConfig(
                CommonConfig.from(env),
                env.string("XDYNA_HTTP_HOST", "0.0.0.0"),
                env.integer("XDYNA_HTTP_PORT", 8080, 0, 65535),
                ApiKeys.parse("XDYNA_API_KEYS", env.required("XDYNA_API_KEYS")),
                env.integer("XDYNA_MAX_UPLOAD_MB", 512, 1, 16384) * 1024L * 1024L,
                Path.of(env.string("XDYNA_UPLOAD_DIR", System.getProperty("java.io.tmpdir") + "/xdyna-uploads")),
                Duration.ofSeconds(env.integer("XDYNA_PRESIGN_TTL_SECONDS", 900, 10, 7 * 24 * 3600)));
    }
}
