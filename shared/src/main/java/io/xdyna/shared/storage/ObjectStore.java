package io.xdyna.shared.storage;

import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.RetryPolicy;
import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.UploadObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.http.HttpUtils;
import io.minio.http.Method;
import io.minio.messages.Item;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.retry.Backoff;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job bucket, over the MinIO SDK (any S3-compatible server). Blocking: call it from worker
 * threads. Transient failures (connection refused, 5xx) are retried with exponential backoff (100 ms
 * doubling up to 5 s) for up to {@code retryBudget}, the last wait cut short to end with the budget,
 * then surface as {@link StorageUnavailableException}; a missing object is
 * {@link ObjectMissingException} at once.
 */
public final class ObjectStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectStore.class);
    private static final Set<String> MISSING = Set.of("NoSuchKey", "NoSuchObject", "NoSuchBucket");
    private static final Backoff BACKOFF = Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(5));

    private final MinioClient client;
    private final MinioClient presigner;
    private final String bucket;
    private final Duration retryBudget;

    public ObjectStore(CommonConfig config, Duration retryBudget) {
        MinioClient.Builder b = MinioClient.builder().endpoint(config.s3Endpoint())
                .credentials(config.s3AccessKey(), config.s3SecretKey()).region(config.s3Region());
        if (config.s3Trust() != null) {
            b.httpClient(trusting(config.s3Trust()), true);
        }
        this.client = b.build();
        // Presigned URLs are bound to the host they are signed for: sign with the one browsers use.
        // The region is set, so signing makes no request.
        this.presigner = MinioClient.builder().endpoint(config.s3PublicEndpoint())
                .credentials(config.s3AccessKey(), config.s3SecretKey()).region(config.s3Region()).build();
        this.bucket = config.s3Bucket();
        this.retryBudget = retryBudget;
    }

    public ObjectStore(CommonConfig config) {
        this(config, Duration.ofSeconds(60));
    }

    /**
     * MinIO's default HTTP client (same timeouts), trusting only the given store's certificates:
     * an S3 endpoint behind a private CA, over TLS, with host names still verified.
     */
    static okhttp3.OkHttpClient trusting(CommonConfig.S3Trust trust) {
        try {
            KeyStore ks;
            char[] pw = trust.password() == null ? null : trust.password().toCharArray();
            if (trust.type().equals("PEM")) {
                ks = KeyStore.getInstance(KeyStore.getDefaultType());
                ks.load(null, null);
                try (InputStream in = Files.newInputStream(trust.file())) {
                    int i = 0;
                    for (Certificate c : CertificateFactory.getInstance("X.509")
                            .generateCertificates(in)) {
                        ks.setCertificateEntry("ca-" + i++, c);
                    }
                    if (i == 0) {
                        throw new IllegalArgumentException("no certificate in " + trust.file());
                    }
                }
            } else {
                ks = KeyStore.getInstance(trust.type());
                try (InputStream in = Files.newInputStream(trust.file())) {
                    ks.load(in, pw);
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(
                    TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            X509TrustManager tm = (X509TrustManager) tmf.getTrustManagers()[0];
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {tm}, null);
            long timeout = TimeUnit.MINUTES.toMillis(5);
            return HttpUtils.newDefaultHttpClient(timeout, timeout, timeout).newBuilder()
                    .sslSocketFactory(ctx.getSocketFactory(), tm).build();
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new ConfigException("S3_TRUSTSTORE: cannot use " + trust.file() + " as a "
                    + trust.type() + " trust store: " + e.getMessage());
        }
    }

    public String bucket() {
        return bucket;
    }

    /** Creates the bucket if it does not exist. */
    public void ensureBucket() {
        call("ensure bucket " + bucket, () -> {
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
                client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
            }
            return null;
        });
    }

    /** Whether the store answers at all (readiness probe); no retries. */
    public boolean reachable() {
        try {
            return client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build());
        } catch (Exception e) {
            return false;
        }
    }

    public void put(String key, byte[] data, String contentType) {
        call("put " + key, () -> {
            client.putObject(PutObjectArgs.builder().bucket(bucket).object(key)
                    .stream(new ByteArrayInputStream(data), data.length, -1).contentType(contentType).build());
            return null;
        });
    }

    public void putFile(String key, Path file, String contentType) {
        call("put " + key, () -> {
            client.uploadObject(UploadObjectArgs.builder().bucket(bucket).object(key)
                    .filename(file.toString()).contentType(contentType).build());
            return null;
        });
    }

    /**
     * Streams {@code in} to the object without holding it in memory (multipart above 10 MiB).
     * Not retried: a stream cannot be replayed.
     */
    public void putStream(String key, InputStream in, long size, String contentType) {
        try {
            client.putObject(PutObjectArgs.builder().bucket(bucket).object(key)
                    .stream(in, size, size < 0 ? 10 * 1024 * 1024 : -1).contentType(contentType).build());
        } catch (Exception e) {
            throw translate("put " + key, e);
        }
    }

    public byte[] get(String key) {
        return call("get " + key, () -> {
            try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
                return in.readAllBytes();
            }
        });
    }

    /** Downloads an object to a local file (replacing it). */
    public void download(String key, Path target) {
        call("get " + key, () -> {
            try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return null;
        });
    }

    /** Size and content type, or empty when the object does not exist. */
    public Optional<ObjectInfo> stat(String key) {
        try {
            return Optional.of(call("stat " + key, () -> {
                StatObjectResponse r = client.statObject(StatObjectArgs.builder().bucket(bucket).object(key).build());
                return new ObjectInfo(key, r.size(), r.contentType());
            }));
        } catch (ObjectMissingException e) {
            return Optional.empty();
        }
    }

    public boolean exists(String key) {
        return stat(key).isPresent();
    }

    public List<String> list(String prefix) {
        return call("list " + prefix, () -> {
            List<String> keys = new ArrayList<>();
            for (Result<Item> r : client.listObjects(ListObjectsArgs.builder().bucket(bucket).prefix(prefix)
                    .recursive(true).build())) {
                keys.add(r.get().objectName());
            }
            return keys;
        });
    }

    /** Deletes every object under a prefix; returns how many. */
    public int deletePrefix(String prefix) {
        List<String> keys = list(prefix);
        for (String k : keys) {
            call("delete " + k, () -> {
                client.removeObject(RemoveObjectArgs.builder().bucket(bucket).object(k).build());
                return null;
            });
        }
        return keys.size();
    }

    /** A GET link valid for {@code ttl}, signed for the public endpoint. */
    public String presignGet(String key, Duration ttl) {
        return call("presign " + key, () -> presigner.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder()
                .method(Method.GET).bucket(bucket).object(key).expiry((int) ttl.toSeconds()).build()));
    }

    @Override
    public void close() {
        try {
            client.close();
            presigner.close();
        } catch (Exception e) {
            LOG.debug("closing S3 client", e);
        }
    }

    /** What {@link #stat} tells about an object. */
    public record ObjectInfo(String key, long size, String contentType) {
    }

    @FunctionalInterface
    private interface S3Call<T> {
        T run() throws Exception;
    }

    private <T> T call(String what, S3Call<T> op) {
        RetryPolicy<T> retries = BACKOFF.<T>policy().handle(StorageUnavailableException.class)
                .withMaxRetries(-1).withMaxDuration(retryBudget)
                .onRetryScheduled(e -> LOG.warn("object store: {} failed ({}), retrying in {} ms", what,
                        rootOf(e.getLastException()), e.getDelay().toMillis()))
                .build();
        try {
            return Failsafe.with(retries).get(() -> {
                try {
                    return op.run();
                } catch (Exception e) {
                    throw translate(what, e);
                }
            });
        } catch (FailsafeException e) {
            // only an interrupt while waiting to retry gets here: everything else is rethrown as it was translated
            throw new StorageUnavailableException("object store: " + what + ": interrupted while waiting to retry",
                    e.getCause());
        }
    }

    /** What the client threw, rather than our translation of it. */
    private static Throwable rootOf(Throwable translated) {
        return translated.getCause() != null ? translated.getCause() : translated;
    }

    private static RuntimeException translate(String what, Exception e) {
        if (e instanceof ErrorResponseException er) {
            String code = er.errorResponse().code();
            if (MISSING.contains(code)) {
                return new ObjectMissingException(er.errorResponse().objectName() != null
                        ? er.errorResponse().objectName() : what);
            }
            if (er.response() != null && er.response().code() >= 500) {
                return new StorageUnavailableException("object store: " + what + ": " + code, e);
            }
            return new IllegalStateException("object store refused " + what + ": " + code + " "
                    + er.errorResponse().message(), e);
        }
        if (e instanceof IOException) {
            return new StorageUnavailableException("object store unreachable: " + what + ": " + e.getMessage(), e);
        }
        if (e instanceof RuntimeException re) {
            return re;
        }
        return new IllegalStateException("object store: " + what + ": " + e, e);
    }
}
