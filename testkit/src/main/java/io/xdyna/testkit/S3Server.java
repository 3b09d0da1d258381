package io.xdyna.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.filesystem.reference.FilesystemConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real S3-compatible HTTP server (S3Proxy) on loopback, with AWS v2/v4 signatures checked against
 * the given keys. Backed by a directory (kept across restarts) or by memory. Runs in-process, or as
 * its own process through {@link #main}. For failure drills it can go down ({@link #stop()}) and
 * come back ({@link #resume()}) on the same port with the same objects, or both at once with
 * {@link #outage(Duration)}.
 */
public final class S3Server implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(S3Server.class);

    private final BlobStoreContext context;
    private final int port;
    private final String accessKey;
    private final String secretKey;
    private S3Proxy proxy;

    private S3Server(S3Proxy proxy, BlobStoreContext context, String accessKey, String secretKey) {
        this.proxy = proxy;
        this.context = context;
        this.port = proxy.getPort();
        this.accessKey = accessKey;
        this.secretKey = secretKey;
    }

    /**
     * @param dataDir where objects are stored, or null for memory only
     * @param port 0 picks a free port
     */
    public static S3Server start(Path dataDir, int port, String accessKey, String secretKey) {
        if (accessKey == null || accessKey.isBlank() || secretKey == null || secretKey.isBlank()) {
            throw new IllegalArgumentException("the S3 server needs an access key and a secret key");
        }
        Properties overrides = new Properties();
        String provider;
        if (dataDir == null) {
            provider = "transient";
        } else {
            provider = "filesystem";
            try {
                Files.createDirectories(dataDir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            overrides.setProperty(FilesystemConstants.PROPERTY_BASEDIR, dataDir.toAbsolutePath().toString());
        }
        // jclouds wants credentials for its own (local) provider; S3Proxy checks the client's keys itself
        BlobStoreContext ctx = ContextBuilder.newBuilder(provider).credentials("local", "local").overrides(overrides)
                .build(BlobStoreContext.class);
        S3Proxy proxy;
        try {
            proxy = listen(ctx, port, accessKey, secretKey);
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
        S3Server s = new S3Server(proxy, ctx, accessKey, secretKey);
        LOG.info("S3 server up at {} ({})", s.endpoint(), dataDir == null ? "in memory" : dataDir);
        return s;
    }

    /** A started S3Proxy over the context's blob store; the blob store outlives it. */
    private static S3Proxy listen(BlobStoreContext ctx, int port, String accessKey, String secretKey) {
        S3Proxy proxy = S3Proxy.builder().blobStore(ctx.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:" + port))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .ignoreUnknownHeaders(true)
                .build();
        try {
            proxy.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!"STARTED".equals(proxy.getState()) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            if (!"STARTED".equals(proxy.getState())) {
                throw new IllegalStateException("still " + proxy.getState() + " after 30 s");
            }
            return proxy;
        } catch (Exception e) {
            try {
                proxy.stop();
            } catch (Exception ignored) {
                // it did not start; nothing to stop
            }
            throw new IllegalStateException("cannot start the S3 server on 127.0.0.1:" + port + " (is the port taken?): "
                    + e.getMessage(), e);
        }
    }

    /**
     * Takes the server off the network (connections refused) while keeping its objects; {@link
     * #resume()} brings it back on the same port.
     */
    public synchronized void stop() {
        if (proxy == null) {
            return;
        }
        try {
            proxy.stop();
        } catch (Exception e) {
            LOG.debug("stopping S3Proxy", e);
        }
        proxy = null;
        LOG.info("S3 server at 127.0.0.1:{} stopped (objects kept)", port);
    }

    /** Listens again on the same port, serving the same objects, after {@link #stop()}. */
    public synchronized void resume() {
        if (proxy != null) {
            return;
        }
        // the port was just released; a listener can linger a moment in the kernel
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            try {
                proxy = listen(context, port, accessKey, secretKey);
                break;
            } catch (IllegalStateException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
        LOG.info("S3 server at {} is back", endpoint());
    }

    /** An outage: unreachable for {@code down}, then back with the same objects. Blocks meanwhile. */
    public void outage(Duration down) throws InterruptedException {
        stop();
        try {
            Thread.sleep(down.toMillis());
        } finally {
            resume();
        }
    }

    /** Whether the server accepts requests now. */
    public synchronized boolean running() {
        return proxy != null;
    }

    /** {@code http://127.0.0.1:<port>}, the S3 endpoint for path-style clients. */
    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** The TCP port the server listens on (also while it is stopped). */
    public int port() {
        return port;
    }

    /** Stops the server; objects in a data dir stay there. */
    @Override
    public void close() {
        stop();
        context.close();
    }

    /**
     * Standalone server, running until SIGTERM: {@code S3Server <dataDir> <port> <accessKey>
     * <secretKey>}, or with no arguments from the environment: {@code S3_DATA_DIR} (required; a
     * folder), {@code S3_PORT} (default 9000; 0 = free), {@code S3_ACCESS_KEY}, {@code S3_SECRET_KEY}
     * (required). Prints {@value #READY_PREFIX}{@code <endpoint>} on stdout once it accepts requests.
     */
    public static void main(String[] args) throws InterruptedException {
        Map<String, String> env = System.getenv();
        String dir;
        String port;
        String access;
        String secret;
        if (args.length == 4) {
            dir = args[0];
            port = args[1];
            access = args[2];
            secret = args[3];
        } else if (args.length == 0) {
            dir = env.get("S3_DATA_DIR");
            port = env.getOrDefault("S3_PORT", "9000");
            access = env.get("S3_ACCESS_KEY");
            secret = env.get("S3_SECRET_KEY");
        } else {
            System.err.println("usage: S3Server <dataDir> <port> <accessKey> <secretKey>\n"
                    + "   or: S3Server with S3_DATA_DIR, S3_PORT, S3_ACCESS_KEY, S3_SECRET_KEY set");
            System.exit(2);
            return;
        }
        String problem = problem(dir, port, access, secret);
        if (problem != null) {
            System.err.println("S3Server: " + problem);
            System.exit(2);
        }
        S3Server s;
        try {
            s = start(Path.of(dir), Integer.parseInt(port), access, secret);
        } catch (RuntimeException e) {
            System.err.println("S3Server: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(s::close, "s3-server-shutdown"));
        System.out.println(READY_PREFIX + s.endpoint());
        System.out.flush();
        Thread.currentThread().join();
    }

    /** The line prefix {@link #main} prints on stdout once the server is up, followed by the endpoint. */
    public static final String READY_PREFIX = "S3 server ready at ";

    private static String problem(String dir, String port, String access, String secret) {
        if (dir == null || dir.isBlank()) {
            return "no data folder: pass it as the first argument or set S3_DATA_DIR";
        }
        if (port == null || !port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65535) {
            return "the port must be a number from 0 to 65535, not '" + port + "'";
        }
        if (access == null || access.length() < 3) {
            return "the access key must have at least 3 characters (S3_ACCESS_KEY)";
        }
        if (secret == null || secret.length() < 8) {
            return "the secret key must have at least 8 characters (S3_SECRET_KEY)";
        }
        return null;
    }
}
