package io.xdyna.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * its own process through {@link #main}.
 */
public final class S3Server implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(S3Server.class);

    private final S3Proxy proxy;
    private final BlobStoreContext context;

    private S3Server(S3Proxy proxy, BlobStoreContext context) {
        this.proxy = proxy;
        this.context = context;
    }

    /**
     * @param dataDir where objects are stored, or null for memory only
     * @param port 0 picks a free port
     */
    public static S3Server start(Path dataDir, int port, String accessKey, String secretKey) {
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
        } catch (Exception e) {
            ctx.close();
            throw new IllegalStateException("cannot start S3 server on port " + port + ": " + e.getMessage(), e);
        }
        S3Server s = new S3Server(proxy, ctx);
        LOG.info("S3 server up at {} ({})", s.endpoint(), dataDir == null ? "in memory" : dataDir);
        return s;
    }

    public String endpoint() {
        return "http://127.0.0.1:" + proxy.getPort();
    }

    public int port() {
        return proxy.getPort();
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            LOG.debug("stopping S3Proxy", e);
        }
        context.close();
    }

    /** Standalone: {@code S3Server <dataDir> <port> <accessKey> <secretKey>}; runs until killed. */
    public static void main(String[] args) throws InterruptedException {
        if (args.length != 4) {
            System.err.println("usage: S3Server <dataDir> <port> <accessKey> <secretKey>");
            System.exit(2);
        }
        S3Server s = start(Path.of(args[0]), Integer.parseInt(args[1]), args[2], args[3]);
        Runtime.getRuntime().addShutdownHook(new Thread(s::close));
        Thread.currentThread().join();
    }
}
