package io.xdyna.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away self-signed server certificate for {@code 127.0.0.1}/{@code localhost}, made with the
 * JDK's {@code keytool}: the server's key store, and the certificate as a client trust store (PKCS12)
 * and as PEM. For TLS tests of the broker and the object store; never for production.
 *
 * @param keyStore PKCS12 with the server key and certificate (alias {@code server})
 * @param trustStore PKCS12 with the certificate only
 * @param pem the certificate, PEM
 * @param password the password of both stores
 */
public record TestCertificates(Path keyStore, Path trustStore, Path pem, String password) {

    public static TestCertificates create(Path dir) {
        try {
            Files.createDirectories(dir);
            String pw = "test-" + Long.toHexString(System.nanoTime());
            Path ks = dir.resolve("server.p12");
            Path ts = dir.resolve("trust.p12");
            Path pem = dir.resolve("server.pem");
            keytool("-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                    "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-keystore", ks.toString(),
                    "-storetype", "PKCS12", "-storepass", pw, "-keypass", pw);
            keytool("-exportcert", "-rfc", "-alias", "server", "-keystore", ks.toString(), "-storepass", pw,
                    "-file", pem.toString());
            keytool("-importcert", "-noprompt", "-alias", "server", "-file", pem.toString(), "-keystore",
                    ts.toString(), "-storetype", "PKCS12", "-storepass", pw);
            return new TestCertificates(ks, ts, pem, pw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void keytool(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("keytool " + args[0] + " failed: "
                        + new String(p.getInputStream().readAllBytes()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * Broker properties for {@link KafkaBroker#start(Path, int, java.util.Map)} that add a listener
     * {@code SECURE} on {@code securePort} speaking SASL_SSL with the PLAIN mechanism and these users
     * (name → password), beside the usual PLAINTEXT listener (which the broker itself and the test's
     * set-up use). Clients then need TLS trust in this certificate and a user's password.
     */
    public Map<String, String> saslSslListener(int plainPort, int controllerPort, int securePort,
            Map<String, String> users) {
        StringBuilder jaas = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required");
        users.forEach((u, pw) -> jaas.append(" user_").append(u).append("=\"").append(pw).append('"'));
        jaas.append(';');
        return Map.of(
                "listeners", "PLAINTEXT://127.0.0.1:" + plainPort + ",CONTROLLER://127.0.0.1:" + controllerPort
                        + ",SECURE://127.0.0.1:" + securePort,
                "advertised.listeners", "PLAINTEXT://127.0.0.1:" + plainPort + ",SECURE://127.0.0.1:" + securePort,
                "listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SECURE:SASL_SSL",
                "sasl.enabled.mechanisms", "PLAIN",
                "listener.name.secure.sasl.enabled.mechanisms", "PLAIN",
                "listener.name.secure.plain.sasl.jaas.config", jaas.toString(),
                "listener.name.secure.ssl.keystore.location", keyStore.toString(),
                "listener.name.secure.ssl.keystore.password", password,
                "listener.name.secure.ssl.keystore.type", "PKCS12",
                "listener.name.secure.ssl.key.password", password);
    }

    /** The client side of {@link #saslSslListener} as {@code KAFKA_*} environment variables. */
    public Map<String, String> saslSslClientEnv(String user, String userPassword) {
        return Map.of(
                "KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                "KAFKA_SASL_MECHANISM", "PLAIN",
                "KAFKA_SASL_JAAS_CONFIG", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                        + user + "\" password=\"" + userPassword + "\";",
                "KAFKA_SSL_TRUSTSTORE_LOCATION", trustStore.toString(),
                "KAFKA_SSL_TRUSTSTORE_PASSWORD", password,
                "KAFKA_SSL_TRUSTSTORE_TYPE", "PKCS12");
    }
}
