package io.xdyna.gateway.webhook;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs webhook bodies: header {@value #HEADER} is {@code sha256=} and the hex HMAC-SHA256 of the
 * exact body bytes under the tenant's secret. A receiver recomputes it over the raw body and
 * compares in constant time.
 */
public final class WebhookSigner {
    public static final String HEADER = "X-Xdyna-Signature";

    private WebhookSigner() {
    }

    public static String signature(String secret, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }
}
