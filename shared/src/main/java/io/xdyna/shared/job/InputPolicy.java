package io.xdyna.shared.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.storage.ObjectMissingException;
import io.xdyna.shared.storage.ObjectStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * What a {@link JobRequest} arriving on Kafka may point at. The pose extractor checks it before
 * reading anything, so a request for tenant A cannot make the pipeline read tenant B's uploads or any
 * other object in the bucket. An input key is allowed when it is a plain key (no {@code .}/{@code ..}
 * or empty segments, no backslash or control characters) and lies
 * <ul>
 *   <li>under the tenant's own upload prefix, {@code uploads/{tenant}/} ({@link StorageLayout#tenantUploads}),
 *   <li>under a shared prefix the operator configured ({@code XDYNA_SHARED_INPUT_PREFIXES}, e.g.
 *       {@code samples/}: objects every tenant may use), or
 *   <li>under the job's own {@code jobs/{id}/inputs/} (only the gateway writes there, for the tenant
 *       its submission record names; a job id another tenant owns is refused before this).
 * </ul>
 * A request whose job id belongs to another tenant (by its submission record or its status) is refused
 * as {@link ErrorCode#JOB_ID_TAKEN}. Otherwise a refusal is {@link ErrorCode#INPUT_FORBIDDEN}.
 *
 * <p>The tenant in a request is what its producer says: this check stops one tenant's integration from
 * reaching another's objects, and Kafka ACLs decide who may produce requests at all (docs/security.md).
 */
public final class InputPolicy {
    public static final String SHARED_PREFIXES_VARIABLE = "XDYNA_SHARED_INPUT_PREFIXES";
    static final int MAX_KEY_LENGTH = 1024;

    private final List<String> sharedPrefixes;

    public InputPolicy(List<String> sharedPrefixes) {
        for (String p : sharedPrefixes) {
            if (!p.endsWith("/") || plainKeyProblem(p.substring(0, p.length() - 1)) != null
                    || p.startsWith("jobs/") || p.startsWith("uploads/") || p.startsWith("idempotency/")) {
                throw new ConfigException(SHARED_PREFIXES_VARIABLE + " entries must be plain folder prefixes"
                        + " ending in '/' and outside jobs/, uploads/ and idempotency/, got '" + p + "'");
            }
        }
        this.sharedPrefixes = List.copyOf(sharedPrefixes);
    }

    /** Only the tenant's own uploads and the job's own inputs. */
    public static InputPolicy tenantOnly() {
        return new InputPolicy(List.of());
    }

    /** {@code XDYNA_SHARED_INPUT_PREFIXES}: comma-separated prefixes, each ending in {@code /}; default none. */
    public static InputPolicy from(Env env) {
        List<String> prefixes = new ArrayList<>();
        String v = env.string(SHARED_PREFIXES_VARIABLE, null);
        if (v != null) {
            for (String p : v.split(",")) {
                if (!p.isBlank()) {
                    prefixes.add(p.trim());
                }
            }
        }
        return new InputPolicy(prefixes);
    }

    public List<String> sharedPrefixes() {
        return sharedPrefixes;
    }

    /**
     * @param ownerOf the tenant a job id already belongs to, if any (submission record, then status)
     * @throws JobFailure INPUT_FORBIDDEN or JOB_ID_TAKEN (permanent)
     */
    public void check(JobRequest r, Function<String, Optional<String>> ownerOf) {
        String tenant = r.tenant();
        if (tenant.contains("/") || plainKeyProblem(tenant) != null) {
            throw JobFailure.permanent(ErrorCode.INPUT_FORBIDDEN, "tenant '" + tenant + "' cannot own objects:"
                    + " a tenant name must not contain '/', control characters or be '.' or '..'");
        }
        Optional<String> owner = ownerOf.apply(r.id());
        if (owner.isPresent() && !owner.get().equals(tenant)) {
            throw JobFailure.permanent(ErrorCode.JOB_ID_TAKEN, "job id " + r.id() + " belongs to another tenant;"
                    + " choose another id");
        }
        String own = StorageLayout.jobPrefix(r.id()) + "inputs/";
        checkKey("reference", r.inputs().reference(), tenant, own);
        checkKey("driving", r.inputs().driving(), tenant, own);
        if (r.inputs().pose() != null && !r.inputs().pose().isBlank()) {
            checkKey("pose", r.inputs().pose(), tenant, own);
        }
    }

    private void checkKey(String role, String key, String tenant, String ownInputs) {
        String problem = plainKeyProblem(key);
        if (problem != null) {
            throw JobFailure.permanent(ErrorCode.INPUT_FORBIDDEN, "inputs." + role + " is not a plain object key: "
                    + problem);
        }
        String mine = StorageLayout.tenantUploads(tenant);
        if (key.startsWith(mine) && key.length() > mine.length()) {
            return;
        }
        for (String p : sharedPrefixes) {
            if (key.startsWith(p) && key.length() > p.length()) {
                return;
            }
        }
        // only the gateway writes there, after checking the uploader; an owner, when known, is this tenant
        if (key.startsWith(ownInputs) && key.length() > ownInputs.length()
                && !key.equals(ownInputs + "submission.json")) {
            return;
        }
        throw JobFailure.permanent(ErrorCode.INPUT_FORBIDDEN, "inputs." + role + " '" + key + "' is outside what"
                + " tenant " + tenant + " may read: put inputs under " + mine
                + (sharedPrefixes.isEmpty() ? "" : " or a shared prefix " + sharedPrefixes));
    }

    /** Why a key is not a plain object key, or null when it is one. */
    static String plainKeyProblem(String key) {
        if (key == null || key.isEmpty()) {
            return "empty";
        }
        if (key.length() > MAX_KEY_LENGTH) {
            return "longer than " + MAX_KEY_LENGTH + " characters";
        }
        if (key.startsWith("/")) {
            return "starts with '/'";
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '\\') {
                return "contains a control character or a backslash";
            }
        }
        for (String segment : key.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return "has an empty, '.' or '..' path segment";
            }
        }
        return null;
    }

    /** The tenant named by a job's submission record (a gateway upload), if it has one. Blocking. */
    public static Optional<String> submittedBy(ObjectStore store, String id) {
        byte[] b;
        try {
            b = store.get(StorageLayout.inputSubmission(id));
        } catch (ObjectMissingException e) {
            return Optional.empty();
        }
        try {
            JsonNode n = Events.MAPPER.readTree(b);
            return n != null && n.hasNonNull("tenant") ? Optional.of(n.get("tenant").asText()) : Optional.empty();
        } catch (IOException e) {
            // unreadable: treat as owned by nobody who could prove it
            return Optional.of("");
        }
    }
}
