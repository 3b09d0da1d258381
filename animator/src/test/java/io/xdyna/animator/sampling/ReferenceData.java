package io.xdyna.animator.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * The X-Dyna reference vectors in {@code <shared>/testdata/xdyna-reference}: JSON loading and
 * conversion of nested C-order lists to flat arrays and NDArrays.
 */
final class ReferenceData {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ReferenceData() {
    }

    /** The shared folder: {@code xdyna.shared.dir}, else {@code XDYNA_SHARED_DIR}, else {@code <repo root>/../shared}. */
    static Path sharedDir() {
        String property = System.getProperty("xdyna.shared.dir");
        if (property != null && !property.isBlank()) {
            return Paths.get(property);
        }
        String env = System.getenv("XDYNA_SHARED_DIR");
        if (env != null && !env.isBlank()) {
            return Paths.get(env);
        }
        String root = System.getProperty("xdyna.repo.root", System.getProperty("user.dir"));
        Path fromRoot = Paths.get(root).toAbsolutePath().resolve("../shared").normalize();
        if (!Files.isDirectory(fromRoot)) {
            // running from the module folder (IDE): the repo root is one level up
            fromRoot = Paths.get(root).toAbsolutePath().resolve("../../shared").normalize();
        }
        return fromRoot;
    }

    static JsonNode load(String file) {
        Path path = sharedDir().resolve("testdata/xdyna-reference").resolve(file);
        try {
            return JSON.readTree(path.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read reference vectors " + path, e);
        }
    }

    /** Shape of a nested list (first element at each level). */
    static long[] shape(JsonNode node) {
        List<Long> dims = new ArrayList<>();
        JsonNode level = node;
        while (level.isArray()) {
            dims.add((long) level.size());
            level = level.get(0);
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    /** Values of a nested list in C order; the string "NaN" becomes NaN. */
    static double[] flat(JsonNode node) {
        List<Double> values = new ArrayList<>();
        collect(node, values);
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static void collect(JsonNode node, List<Double> out) {
        if (node.isArray()) {
            for (JsonNode child : node) {
                collect(child, out);
            }
        } else if (node.isTextual() && "NaN".equals(node.asText())) {
            out.add(Double.NaN);
        } else {
            out.add(node.asDouble());
        }
    }

    static int[] ints(JsonNode node) {
        double[] values = flat(node);
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (int) values[i];
        }
        return out;
    }

    static float[] floats(JsonNode node) {
        double[] values = flat(node);
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    /** A nested list as an NDArray of {@code type} (float32 values are recovered bit-exactly). */
    static NDArray array(NDManager manager, JsonNode node, DataType type) {
        Shape shape = new Shape(shape(node));
        if (type == DataType.FLOAT64) {
            return manager.create(flat(node), shape);
        }
        NDArray f32 = manager.create(floats(node), shape);
        if (type == DataType.FLOAT32) {
            return f32;
        }
        NDArray converted = f32.toType(type, true);
        f32.close();
        return converted;
    }

    /** An NDArray's values widened to double, in C order. */
    static double[] values(NDArray array) {
        try (NDArray wide = array.toType(DataType.FLOAT64, true)) {
            return wide.toDoubleArray();
        }
    }
}
