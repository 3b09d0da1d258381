package io.xdyna.shared.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.testkit.Ports;
import io.xdyna.testkit.TestCertificates;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The object store over TLS with a private CA: trusted through S3_TRUSTSTORE, refused without it. */
class ObjectStoreTlsIT {
    @TempDir
    Path tmp;

    @Test
    @DisplayName("an https S3 endpoint with a self-signed certificate works with S3_TRUSTSTORE (PKCS12 or PEM) and is refused without")
    void customTrustStore() throws Exception {
        TestCertificates certs = TestCertificates.create(tmp.resolve("certs"));
        int port = Ports.free();
        BlobStoreContext ctx = ContextBuilder.newBuilder("transient").credentials("local", "local")
                .build(BlobStoreContext.class);
        S3Proxy proxy = S3Proxy.builder().blobStore(ctx.getBlobStore())
                .secureEndpoint(URI.create("https://127.0.0.1:" + port))
                .keyStore(certs.keyStore().toString(), certs.password())
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "tls-access", "tls-secret-key")
                .ignoreUnknownHeaders(true).build();
        proxy.start();
        try {
            while (!"STARTED".equals(proxy.getState())) {
                Thread.sleep(20);
            }
            Map<String, String> base = Map.of("S3_ENDPOINT", "https://127.0.0.1:" + port, "S3_ACCESS_KEY",
                    "tls-access", "S3_SECRET_KEY", "tls-secret-key", "S3_BUCKET", "tls-bucket");
            CommonConfig untrusted = CommonConfig.from(new Env(base));
            try (ObjectStore store = new ObjectStore(untrusted, Duration.ofSeconds(1))) {
                assertThat(store.reachable()).isFalse();
                assertThatThrownBy(store::ensureBucket).isInstanceOf(StorageUnavailableException.class);
            }
            for (Map<String, String> trust : List.of(
                    Map.of("S3_TRUSTSTORE", certs.trustStore().toString(), "S3_TRUSTSTORE_PASSWORD", certs.password()),
                    Map.of("S3_TRUSTSTORE", certs.pem().toString()))) {
                CommonConfig trusted = CommonConfig.from(new Env(base).with(trust));
                try (ObjectStore store = new ObjectStore(trusted, Duration.ofSeconds(5))) {
                    store.ensureBucket();
                    store.put("tls/hello.txt", "over TLS".getBytes(StandardCharsets.UTF_8), "text/plain");
                    assertThat(new String(store.get("tls/hello.txt"), StandardCharsets.UTF_8)).isEqualTo("over TLS");
                }
            }
        } finally {
            proxy.stop();
            ctx.close();
        }
    }
}
