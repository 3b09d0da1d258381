package io.xdyna.gateway;

import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.gateway.webhook.EgressPolicy;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.stage.WorkBudget;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The gateway's settings, read once from the environment by {@link #from(Env)}.
 *
 * @param common broker, object store, topics ({@link CommonConfig#from})
 * @param host {@code XDYNA_HTTP_HOST}, default {@code 0.0.0.0}
 * @param port {@code XDYNA_HTTP_PORT}, default 8080
 * @param keys {@code XDYNA_API_KEYS}: {@code tenant:key,...}; required
 * @param maxUploadBytes {@code XDYNA_MAX_UPLOAD_MB} (default 512) for one request's files together
 * @param uploadDir {@code XDYNA_UPLOAD_DIR}: where uploads are spooled before going to the store
 * @param presignTtl {@code XDYNA_PRESIGN_TTL} seconds (default 900): lifetime of download links
 * @param limits per-tenant request rate and concurrent-job quota
 * @param webhookSecrets {@code XDYNA_WEBHOOK_SECRETS}: {@code tenant:secret,...}; a tenant without one
 *     has its webhooks signed with its first API key
 * @param retention when finished jobs and their objects are deleted
 * @param webhookEgress {@code XDYNA_WEBHOOK_ALLOW}: where callbacks may go besides public addresses
 *     ({@link EgressPolicy#parse}); default nothing: loopback, private, link-local, unique-local,
 *     multicast, unspecified and metadata addresses are refused
 * @param deadlines which jobs are too big to accept, and when a job that does not move is given up
 * @param fixtureNotice {@code XDYNA_FIXTURE_NOTICE}: set (by {@code ./xdyna local}) when the stages run on the
 *     tiny random-weight fixture bundles; {@code GET /v1/info} carries it, and the web page and the CLI show it
 *     up front with a quick demo size. Null when the real weights are in use.
 */
public record GatewayConfig(CommonConfig common, String host, int port, ApiKeys keys, long maxUploadBytes,
        Path uploadDir, Duration presignTtl, Limits limits, Map<String, String> webhookSecrets, Retention retention,
        EgressPolicy webhookEgress, Deadlines deadlines, String fixtureNotice) {

    /** Without a fixture notice (real weights). */
    public GatewayConfig(CommonConfig common, String host, int port, ApiKeys keys, long maxUploadBytes,
            Path uploadDir, Duration presignTtl, Limits limits, Map<String, String> webhookSecrets, Retention retention,
            EgressPolicy webhookEgress, Deadlines deadlines) {
        this(common, host, port, keys, maxUploadBytes, uploadDir, presignTtl, limits, webhookSecrets, retention,
                webhookEgress, deadlines, null);
    }

    /**
     * @param work {@link WorkBudget#from}: a job whose estimated work at any stage exceeds
     *     {@code XDYNA_STAGE_TIMEOUT_MAX} is refused at submission (400 INVALID_PARAMS)
     * @param stallAfter {@code XDYNA_STALL_AFTER} (default 48 h; 0 = off): an unfinished job whose status
     *     has not changed for this long is FAILED with STALLED ({@link io.xdyna.gateway.watchdog.StallWatchdog})
     */
    public record Deadlines(WorkBudget work, Duration stallAfter) {
        public static final Duration DEFAULT_STALL_AFTER = Duration.ofHours(48);
        public static final Deadlines DEFAULT = new Deadlines(WorkBudget.DEFAULT, DEFAULT_STALL_AFTER);

        public static Deadlines from(Env env) {
            return new Deadlines(WorkBudget.from(env), env.duration("XDYNA_STALL_AFTER", DEFAULT_STALL_AFTER));
        }
    }

    public GatewayConfig(CommonConfig common, String host, int port, ApiKeys keys, long maxUploadBytes,
            Path uploadDir, Duration presignTtl, Limits limits, Map<String, String> webhookSecrets, Retention retention,
            EgressPolicy webhookEgress) {
        this(common, host, port, keys, maxUploadBytes, uploadDir, presignTtl, limits, webhookSecrets, retention,
                webhookEgress, Deadlines.DEFAULT);
    }

    /**
     * Expiry of finished jobs.
     *
     * @param maxAge {@code XDYNA_RETENTION} (seconds or ISO-8601, default {@code P7D}; {@code 0} or
     *     {@code off} keeps jobs for ever): a job that SUCCEEDED, FAILED or was CANCELLED longer ago
     *     than this is deleted with its objects, as by {@code DELETE /v1/jobs/{id}}
     * @param sweepInterval {@code XDYNA_RETENTION_SWEEP_INTERVAL} (default {@code PT10M}): how often
     *     a gateway looks for expired jobs (each gateway does; deleting twice is harmless)
     * @param orphanUploadAge spooled upload files untouched for this long are left over from a
     *     crash and deleted (fixed at a day: no upload takes that long)
     */
    public record Retention(Duration maxAge, Duration sweepInterval, Duration orphanUploadAge) {
        public static final Duration DEFAULT_MAX_AGE = Duration.ofDays(7);
        public static final Duration DEFAULT_SWEEP_INTERVAL = Duration.ofMinutes(10);
        public static final Duration ORPHAN_UPLOAD_AGE = Duration.ofDays(1);
        /** Nothing expires (tests, tools). */
        public static final Retention OFF = new Retention(Duration.ZERO, DEFAULT_SWEEP_INTERVAL, Duration.ZERO);

        public Retention {
            if (!maxAge.isZero() && (sweepInterval.isZero() || sweepInterval.isNegative())) {
                throw new ConfigException("XDYNA_RETENTION_SWEEP_INTERVAL must be positive, got " + sweepInterval);
            }
        }

        public boolean enabled() {
            return !maxAge.isZero();
        }

        public static Retention from(Env env) {
            return new Retention(env.duration("XDYNA_RETENTION", DEFAULT_MAX_AGE),
                    env.duration("XDYNA_RETENTION_SWEEP_INTERVAL", DEFAULT_SWEEP_INTERVAL), ORPHAN_UPLOAD_AGE);
        }
    }

    /**
     * Per-tenant limits.
     *
     * @param requestsPerMinute {@code XDYNA_RATE_LIMIT_PER_MINUTE} (default 600): API calls per tenant
     *     per minute, in a token bucket that allows a burst of the same size; 0 = unlimited
     * @param submitsPerMinute {@code XDYNA_SUBMIT_LIMIT_PER_MINUTE} (default 30): job submissions
     *     per tenant per minute; 0 = unlimited
     * @param maxActiveJobs {@code XDYNA_MAX_ACTIVE_JOBS} (default 20): jobs per tenant not yet
     *     finished; 0 = unlimited
     */
    public record Limits(int requestsPerMinute, int submitsPerMinute, int maxActiveJobs) {
        public static final Limits NONE = new Limits(0, 0, 0);
    }

    public GatewayConfig {
        webhookSecrets = Map.copyOf(webhookSecrets);
        for (String tenant : webhookSecrets.keySet()) {
            if (!keys.tenants().contains(tenant)) {
                throw new ConfigException("XDYNA_WEBHOOK_SECRETS names tenant " + tenant
                        + ", which has no key in XDYNA_API_KEYS");
            }
        }
    }

    /** Without limits, webhook secrets or retention, with the strict webhook egress policy (tests, tools). */
    public GatewayConfig(CommonConfig common, String host, int port, ApiKeys keys, long maxUploadBytes,
            Path uploadDir, Duration presignTtl) {
        this(common, host, port, keys, maxUploadBytes, uploadDir, presignTtl, Limits.NONE, Map.of(), Retention.OFF,
                EgressPolicy.strict());
    }

    /** As before there was an egress setting: the strict policy. */
    public GatewayConfig(CommonConfig common, String host, int port, ApiKeys keys, long maxUploadBytes,
            Path uploadDir, Duration presignTtl, Limits limits, Map<String, String> webhookSecrets,
            Retention retention) {
        this(common, host, port, keys, maxUploadBytes, uploadDir, presignTtl, limits, webhookSecrets, retention,
                EgressPolicy.strict());
    }

    public GatewayConfig withLimits(Limits l) {
        return new GatewayConfig(common, host, port, keys, maxUploadBytes, uploadDir, presignTtl, l, webhookSecrets,
                retention, webhookEgress, deadlines);
    }

    public GatewayConfig withWebhookSecrets(Map<String, String> s) {
        return new GatewayConfig(common, host, port, keys, maxUploadBytes, uploadDir, presignTtl, limits, s,
                retention, webhookEgress, deadlines);
    }

    public GatewayConfig withRetention(Retention r) {
        return new GatewayConfig(common, host, port, keys, maxUploadBytes, uploadDir, presignTtl, limits,
                webhookSecrets, r, webhookEgress, deadlines);
    }

    public GatewayConfig withWebhookEgress(EgressPolicy e) {
        return new GatewayConfig(common, host, port, keys, maxUploadBytes, uploadDir, presignTtl, limits,
                webhookSecrets, retention, e, deadlines);
    }

    public GatewayConfig withDeadlines(Deadlines d) {
        return new GatewayConfig(common, host, port, keys, maxUploadBytes, uploadDir, presignTtl, limits,
                webhookSecrets, retention, webhookEgress, d);
    }

    /** The secret that signs a tenant's webhooks. */
    public String webhookSecret(String tenant) {
        String s = webhookSecrets.get(tenant);
        return s != null ? s : keys.firstKeyOf(tenant).orElseThrow();
    }

    /** Shows tenants, never keys or secrets. */
    @Override
    public String toString() {
        return "GatewayConfig[" + host + ":" + port + ", " + keys + ", maxUploadBytes=" + maxUploadBytes + ", uploadDir="
                + uploadDir + ", presignTtl=" + presignTtl + ", " + limits + ", webhookSecretsFor="
                + webhookSecrets.keySet() + ", " + retention + ", webhook " + webhookEgress + ", " + deadlines + "]";
    }

    public static GatewayConfig from(Env env) {
        // the old name of the TTL variable is still read, so existing deployments keep working
        int ttl = env.integer("XDYNA_PRESIGN_TTL", env.integer("XDYNA_PRESIGN_TTL_SECONDS", 900, 10, 7 * 24 * 3600),
                10, 7 * 24 * 3600);
        return new GatewayConfig(
                CommonConfig.from(env),
                env.string("XDYNA_HTTP_HOST", "0.0.0.0"),
                env.integer("XDYNA_HTTP_PORT", 8080, 0, 65535),
                ApiKeys.parse("XDYNA_API_KEYS", env.required("XDYNA_API_KEYS")),
                env.integer("XDYNA_MAX_UPLOAD_MB", 512, 1, 16384) * 1024L * 1024L,
                Path.of(env.string("XDYNA_UPLOAD_DIR", System.getProperty("java.io.tmpdir") + "/xdyna-uploads")),
                Duration.ofSeconds(ttl),
                new Limits(env.integer("XDYNA_RATE_LIMIT_PER_MINUTE", 600, 0, 1_000_000),
                        env.integer("XDYNA_SUBMIT_LIMIT_PER_MINUTE", 30, 0, 100_000),
                        env.integer("XDYNA_MAX_ACTIVE_JOBS", 20, 0, 100_000)),
                ApiKeys.parseSecrets("XDYNA_WEBHOOK_SECRETS", env.string("XDYNA_WEBHOOK_SECRETS", null)),
                Retention.from(env),
                EgressPolicy.parse("XDYNA_WEBHOOK_ALLOW", env.string("XDYNA_WEBHOOK_ALLOW", null),
                        EgressPolicy.Resolver.SYSTEM),
                Deadlines.from(env),
                env.string("XDYNA_FIXTURE_NOTICE", null));
    }
}
