package io.xdyna.gateway.upload;

import io.vertx.core.Vertx;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.xdyna.gateway.api.ApiError;
import io.xdyna.gateway.api.ErrorMapping;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Receiving a multipart upload: the header checks made before any byte of the body is read, the
 * body handler that spools file parts to disk, a watch for bodies the decoder never finishes, and
 * the received parts as a plain {@link UploadedForm}.
 */
public final class MultipartUpload {
    /** Set once the body has been decoded and passed on. */
    static final String BODY_READ = "xdyna.bodyRead";
    /** How long a fully received body may stay undecoded before it counts as malformed. */
    static final long BODY_GRACE_MS = 3_000;
    private static final Pattern BOUNDARY = Pattern.compile("(?i);\\s*boundary=(\"([^\"]*)\"|([^;\\s]*))");

    private final Vertx vertx;
    private final Path uploadDir;
    private final long maxBytes;

    public MultipartUpload(Vertx vertx, Path uploadDir, long maxBytes) {
        this.vertx = vertx;
        this.uploadDir = uploadDir;
        this.maxBytes = maxBytes;
    }

    /** Refuses a request whose headers already show it cannot be a usable upload; costs no bandwidth. */
    public void checkHeaders(String contentType, String contentLength) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw new ApiError(ErrorMapping.Code.UNSUPPORTED_MEDIA_TYPE, "POST /v1/jobs takes multipart/form-data"
                    + " with parts 'reference' (image), 'driving' (video), optionally 'pose' (video) and 'params'"
                    + " (JSON)");
        }
        if (!hasValidBoundary(contentType)) {
            // Netty's decoder fails with an exception (a 500) on an empty boundary: refuse it first
            throw new ApiError(ErrorMapping.Code.INVALID_REQUEST, "the multipart/form-data Content-Type needs a"
                    + " boundary parameter of 1 to 70 characters (RFC 2046)");
        }
        if (contentLength != null && contentLength.matches("\\d{1,18}") && Long.parseLong(contentLength) > maxBytes) {
            throw new ApiError(ErrorMapping.Code.PAYLOAD_TOO_LARGE, "the upload is larger than this gateway's limit"
                    + " of " + maxBytes / (1024 * 1024) + " MB for all files together");
        }
    }

    /** Whether a multipart Content-Type names a boundary of 1 to 70 characters (RFC 2046). */
    public static boolean hasValidBoundary(String contentType) {
        Matcher m = BOUNDARY.matcher(contentType);
        if (!m.find()) {
            return false;
        }
        String b = m.group(2) != null ? m.group(2) : m.group(3);
        return !b.isEmpty() && b.length() <= 70;
    }

    /** Reads the body: file parts to disk (deleted when the request ends), at most {@code maxBytes} in all. */
    public BodyHandler bodyHandler() {
        return BodyHandler.create(uploadDir.toString()).setBodyLimit(maxBytes).setDeleteUploadedFilesOnEnd(true)
                .setHandleFileUploads(true).setMergeFormAttributes(false);
    }

    /**
     * A multipart body that ends inside a file part (no closing boundary) leaves Vert.x's body handler
     * waiting for the rest of that part for ever, so the request would never be answered. Once the
     * whole body has arrived and the handler has still not passed it on after {@link #BODY_GRACE_MS},
     * the request is answered 400.
     */
    public void watchBody(RoutingContext ctx) {
        long[] endedAt = {0};
        long timer = vertx.setPeriodic(500, id -> {
            if (ctx.response().ended() || ctx.response().closed() || ctx.get(BODY_READ) != null) {
                vertx.cancelTimer(id);
                return;
            }
            if (!ctx.request().isEnded()) {
                return;
            }
            long now = System.nanoTime();
            if (endedAt[0] == 0) {
                endedAt[0] = now;
            } else if (now - endedAt[0] > BODY_GRACE_MS * 1_000_000) {
                vertx.cancelTimer(id);
                ErrorMapping.send(ctx, new ApiError(ErrorMapping.Code.INVALID_REQUEST, "the multipart body ends"
                        + " inside a part (no closing boundary)"));
            }
        });
        ctx.addEndHandler(v -> vertx.cancelTimer(timer));
    }

    /** The decoded body (and stops the watch: it was read). */
    public static UploadedForm received(RoutingContext ctx) {
        ctx.put(BODY_READ, Boolean.TRUE);
        List<UploadedForm.FilePart> files = new ArrayList<>();
        for (FileUpload f : ctx.fileUploads()) {
            files.add(new UploadedForm.FilePart(f.name(), Path.of(f.uploadedFileName())));
        }
        Map<String, List<String>> fields = new LinkedHashMap<>();
        for (String name : ctx.request().formAttributes().names()) {
            fields.put(name, List.copyOf(ctx.request().formAttributes().getAll(name)));
        }
        return new UploadedForm(files, fields);
    }
}
