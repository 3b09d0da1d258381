package io.xdyna.gateway.upload;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A multipart body as received, in plain Java: its file parts (spooled to disk, in arrival order,
 * repeats kept) and its text fields (every value of each name), so rules about them need no web framework.
 */
public record UploadedForm(List<FilePart> files, Map<String, List<String>> fields) {
    public record FilePart(String name, Path file) {
    }

    /** The field's value, or null if absent (the first if given twice). */
    public String field(String name) {
        List<String> values = fields.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
