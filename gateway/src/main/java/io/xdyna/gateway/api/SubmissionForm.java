package io.xdyna.gateway.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobParams;
import io.xdyna.gateway.api.ErrorMapping.Code;
import io.xdyna.gateway.upload.UploadedForm;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * What a job submission's form must hold: the files 'reference' and 'driving' (and optionally
 * 'pose'), each once; the text fields 'params' (JSON of {@link JobParams}) and 'callbackUrl', each at
 * most once; nothing else. Pure parsing: no I/O, no web framework.
 */
public record SubmissionForm(Map<String, Path> files, JobParams params, boolean lengthGiven, String callbackUrl) {
    static final List<String> FILE_PARTS = List.of("reference", "driving", "pose");
    static final Set<String> FORM_FIELDS = Set.of("params", "callbackUrl");
    static final int MAX_CALLBACK_URL = 2000;

    /**
     * The form's parts checked and parsed; an {@link ApiError} names the first thing wrong.
     * {@code paramsRefusal} is the service's own limit on params (why they are refused, if they are).
     */
    static SubmissionForm parse(UploadedForm form, Function<JobParams, Optional<String>> paramsRefusal) {
        Map<String, Path> files = new HashMap<>();
        for (UploadedForm.FilePart f : form.files()) {
            if (!FILE_PARTS.contains(f.name())) {
                throw new ApiError(Code.INVALID_REQUEST, "unknown file part '" + f.name()
                        + "'; expected reference, driving and optionally pose");
            }
            if (files.put(f.name(), f.file()) != null) {
                throw new ApiError(Code.INVALID_REQUEST, "part '" + f.name() + "' is given twice");
            }
        }
        for (Map.Entry<String, List<String>> field : form.fields().entrySet()) {
            String name = field.getKey();
            if (FILE_PARTS.contains(name)) {
                throw new ApiError(Code.INVALID_REQUEST, "part '" + name + "' must be a file, not a text field");
            }
            if (!FORM_FIELDS.contains(name)) {
                throw new ApiError(Code.INVALID_REQUEST, "unknown form field '" + name + "'; expected " + FORM_FIELDS);
            }
            if (field.getValue().size() > 1) {
                throw new ApiError(Code.INVALID_REQUEST, "form field '" + name + "' is given twice");
            }
        }
        if (!files.containsKey("reference") || !files.containsKey("driving")) {
            String missing = !files.containsKey("reference") ? "reference" : "driving";
            throw new ApiError(Code.INVALID_REQUEST, "the file part '" + missing + "' is missing; send"
                    + " 'reference' (an image of the person) and 'driving' (a video of the motion)");
        }
        String paramsJson = form.field("params");
        JobParams params = parseParams(paramsJson);
        paramsRefusal.apply(params).ifPresent(why -> {
            throw ApiError.of(JobFailure.permanent(ErrorCode.INVALID_PARAMS, why));
        });
        return new SubmissionForm(Map.copyOf(files), params, lengthGiven(paramsJson),
                callbackUrl(form.field("callbackUrl")));
    }

    /** X-Dyna's knobs: absent means the defaults; given ones override only themselves. */
    static JobParams parseParams(String json) {
        if (json == null || json.isBlank()) {
            return JobParams.defaults();
        }
        try {
            JobParams p = Events.MAPPER.readValue(json, JobParams.class);
            if (p == null) {
                throw new ApiError(Code.INVALID_PARAMS, "params must be a JSON object, not null");
            }
            return p.validated();
        } catch (JobFailure f) {
            throw ApiError.of(f);
        } catch (UnrecognizedPropertyException e) {
            throw new ApiError(Code.INVALID_PARAMS, "unknown parameter '" + e.getPropertyName() + "'; known: "
                    + e.getKnownPropertyIds());
        } catch (MismatchedInputException e) {
            String field = e.getPath().isEmpty() ? null : e.getPath().get(0).getFieldName();
            throw new ApiError(Code.INVALID_PARAMS, field == null
                    ? "params must be a JSON object of X-Dyna's knobs"
                    : "parameter '" + field + "' has the wrong type: " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new ApiError(Code.INVALID_PARAMS, "params must be a JSON object of X-Dyna's knobs: "
                    + e.getOriginalMessage());
        }
    }

    /** Whether params name a length: only an explicit one may be refused as longer than the video. */
    private static boolean lengthGiven(String json) {
        if (json == null || json.isBlank()) {
            return false;
        }
        try {
            JsonNode n = Events.MAPPER.readTree(json);
            return n.hasNonNull("length");
        } catch (IOException e) {
            return false;
        }
    }

    /** An absolute http(s) URL without credentials, or null when none was given. */
    static String callbackUrl(String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        String v = raw.trim();
        try {
            URI u = new URI(v);
            if (v.length() > MAX_CALLBACK_URL || u.getHost() == null
                    || !("http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme()))
                    || u.getUserInfo() != null) {
                throw new URISyntaxException(v, "not an absolute http(s) URL");
            }
            return u.toString();
        } catch (URISyntaxException e) {
            throw new ApiError(Code.INVALID_REQUEST, "callbackUrl must be an absolute http:// or https:// URL"
                    + " without credentials, at most " + MAX_CALLBACK_URL + " characters");
        }
    }
}
