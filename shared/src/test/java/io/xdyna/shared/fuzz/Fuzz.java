package io.xdyna.shared.fuzz;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A small, deterministic property runner for the fuzz tests ({@code *FuzzTest}, {@code *FuzzIT}):
 * {@link #check} draws {@code tries} inputs from a generator and hands each to a property (a plain
 * JUnit/AssertJ assertion block); the first input that makes it throw fails the test with an
 * {@link AssertionError} naming the property, the seed, the try index and a printable form of the
 * input. No shrinking: the generators keep inputs small instead.
 *
 * <p>Every try has its own random stream, derived from the seed, the property's name and the try
 * index, so a run is reproducible and one failing try can be replayed on its own:
 * <ul>
 *   <li>{@code -Dxdyna.fuzz.tries=N}: tries per property (default {@value #DEFAULT_TRIES}, what
 *       {@code mvn verify} runs); e.g. {@code -Dxdyna.fuzz.tries=20000} for a long run;</li>
 *   <li>{@code -Dxdyna.fuzz.seed=S}: the seed (decimal or {@code 0x} hex; default a fixed one so CI
 *       is reproducible); {@code -Dxdyna.fuzz.seed=random} picks a fresh one and names it on failure;</li>
 *   <li>{@code -Dxdyna.fuzz.try=I}: run only try {@code I} (with the seed of the failure) to replay it.</li>
 * </ul>
 *
 * <p>The generators below are biased towards edge cases (empty, extreme and syntax-significant
 * values) the way a property-testing library's are.
 */
public final class Fuzz {
    public static final int DEFAULT_TRIES = 300;
    public static final long DEFAULT_SEED = 0x5EED_2026_F022L;
    private static final int SHOW_LIMIT = 4096;

    private Fuzz() {
    }

    /** Tries per property: {@code xdyna.fuzz.tries}, default {@value #DEFAULT_TRIES}. */
    public static int tries() {
        String v = System.getProperty("xdyna.fuzz.tries");
        return v == null || v.isBlank() ? DEFAULT_TRIES : Integer.parseInt(v.trim());
    }

    /** The seed: {@code xdyna.fuzz.seed} (decimal, {@code 0x} hex or {@code random}), default {@link #DEFAULT_SEED}. */
    public static long seed() {
        String v = System.getProperty("xdyna.fuzz.seed");
        if (v == null || v.isBlank()) {
            return DEFAULT_SEED;
        }
        v = v.trim();
        if (v.equalsIgnoreCase("random")) {
            return System.nanoTime() ^ Double.doubleToLongBits(Math.random());
        }
        return v.startsWith("0x") || v.startsWith("0X") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
    }

    /** {@link #check(String, int, long, Function, Consumer)} with {@link #tries()} and {@link #seed()}. */
    public static <T> void check(String name, Function<SplittableRandom, T> generator, Consumer<T> property) {
        check(name, tries(), seed(), generator, property);
    }

    /**
     * Runs {@code property} on {@code tries} inputs drawn by {@code generator}; throws an
     * {@link AssertionError} on the first input the property throws on (or the generator fails on).
     * With {@code xdyna.fuzz.try} set, runs only that try.
     */
    public static <T> void check(String name, int tries, long seed, Function<SplittableRandom, T> generator,
            Consumer<T> property) {
        String only = System.getProperty("xdyna.fuzz.try");
        int from = 0;
        int to = tries;
        if (only != null && !only.isBlank()) {
            from = Integer.parseInt(only.trim());
            to = from + 1;
        }
        for (int i = from; i < to; i++) {
            T input;
            try {
                input = generator.apply(new SplittableRandom(trySeed(seed, name, i)));
            } catch (RuntimeException | Error e) {
                throw new AssertionError(header(name, i, tries, seed) + ": the generator threw " + e, e);
            }
            try {
                property.accept(input);
            } catch (RuntimeException | AssertionError | StackOverflowError e) {
                throw new AssertionError(header(name, i, tries, seed) + "\ninput: " + show(input) + "\ncause: " + e, e);
            }
        }
    }

    private static String header(String name, int i, int tries, long seed) {
        return String.format("property %s failed on try %d of %d (seed 0x%x); replay: -Dtest='%s' "
                + "-Dxdyna.fuzz.seed=0x%x -Dxdyna.fuzz.try=%d", name, i, tries, seed, name, seed, i);
    }

    /** The seed of one try: independent of the other tries, so a try replays alone. */
    static long trySeed(long seed, String name, int i) {
        return mix(mix(seed ^ (name.hashCode() * 0x9E3779B97F4A7C15L)) + i);
    }

    private static long mix(long z) { // SplitMix64's finaliser
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    // ---- generators ------------------------------------------------------------------------------

    private static final int[] EDGE_INTS = {0, 1, -1, 2, Integer.MAX_VALUE, Integer.MIN_VALUE,
        Integer.MAX_VALUE - 1, Integer.MIN_VALUE + 1, 255, 256, 65535, 65536};
    private static final long[] EDGE_LONGS = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 1,
        Long.MIN_VALUE + 1, Integer.MAX_VALUE, Integer.MIN_VALUE, 1L << 32, 1L << 53, -(1L << 53)};
    private static final double[] EDGE_DOUBLES = {0.0, -0.0, 1.0, -1.0, 0.5, Double.MAX_VALUE, -Double.MAX_VALUE,
        Double.MIN_VALUE, Double.MIN_NORMAL, 1e-300, 1e300, Double.NaN, Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY};
    private static final byte[] EDGE_BYTES = {0, -1, 0x7f, (byte) 0x80, '{', '}', '[', ']', '"', '\\', ':', ',',
        '\r', '\n', '-'};
    private static final String SIGNIFICANT = "{}[]\":,\\/.-+eE0 \t\r\n%;=<>'&@?#";

    /** An int in {@code [lo, hi]}, the bounds and their neighbours more often than the rest. */
    public static int between(SplittableRandom r, int lo, int hi) {
        if (lo > hi) {
            throw new IllegalArgumentException(lo + " > " + hi);
        }
        if (r.nextInt(10) == 0) {
            return r.nextBoolean() ? lo : hi;
        }
        return (int) (lo + r.nextLong((long) hi - lo + 1));
    }

    /** Any int: edge values, small ones and the full range. */
    public static int ints(SplittableRandom r) {
        return switch (r.nextInt(5)) {
            case 0 -> EDGE_INTS[r.nextInt(EDGE_INTS.length)];
            case 1 -> r.nextInt(-1000, 1001);
            default -> r.nextInt();
        };
    }

    /** Any long: edge values, small ones and the full range. */
    public static long longs(SplittableRandom r) {
        return switch (r.nextInt(5)) {
            case 0 -> EDGE_LONGS[r.nextInt(EDGE_LONGS.length)];
            case 1 -> r.nextLong(-100_000, 100_001);
            default -> r.nextLong();
        };
    }

    /** Any double: edge values (NaN and the infinities too), short decimals and any bit pattern. */
    public static double doubles(SplittableRandom r) {
        return switch (r.nextInt(5)) {
            case 0 -> EDGE_DOUBLES[r.nextInt(EDGE_DOUBLES.length)];
            case 1 -> r.nextLong(-1_000_000, 1_000_001) / 100.0;
            case 2 -> r.nextDouble(-1e9, 1e9);
            default -> Double.longBitsToDouble(r.nextLong());
        };
    }

    /** A length in {@code [min, max]}, mostly short (bugs live in small inputs). */
    public static int size(SplittableRandom r, int min, int max) {
        return switch (r.nextInt(4)) {
            case 0 -> min;
            case 1 -> between(r, min, Math.min(max, min + 8));
            default -> r.nextInt(min, max + 1);
        };
    }

    /** Random bytes, {@code 0..maxLen} of them. */
    public static byte[] bytes(SplittableRandom r, int maxLen) {
        byte[] b = new byte[size(r, 0, maxLen)];
        for (int i = 0; i < b.length; i++) {
            b[i] = r.nextInt(5) == 0 ? EDGE_BYTES[r.nextInt(EDGE_BYTES.length)] : (byte) r.nextInt(256);
        }
        return b;
    }

    /** One char of any kind: printable ASCII, controls, syntax, any UTF-16 unit (lone surrogates too). */
    public static char anyChar(SplittableRandom r) {
        return switch (r.nextInt(10)) {
            case 0, 1, 2, 3 -> (char) r.nextInt(0x20, 0x7f);
            case 4 -> (char) (r.nextInt(8) == 0 ? 0x7f : r.nextInt(0x20));
            case 5, 6 -> SIGNIFICANT.charAt(r.nextInt(SIGNIFICANT.length()));
            case 7 -> (char) r.nextInt(0x80, 0x800);
            default -> (char) r.nextInt(0x10000);
        };
    }

    /** A string of any chars, {@code 0..maxLen} long. */
    public static String strings(SplittableRandom r, int maxLen) {
        return strings(r, 0, maxLen);
    }

    /** A string of any chars, {@code minLen..maxLen} long. */
    public static String strings(SplittableRandom r, int minLen, int maxLen) {
        char[] c = new char[size(r, minLen, maxLen)];
        for (int i = 0; i < c.length; i++) {
            c[i] = anyChar(r);
        }
        return new String(c);
    }

    /** A string over {@code alphabet}, {@code minLen..maxLen} long. */
    public static String strings(SplittableRandom r, String alphabet, int minLen, int maxLen) {
        char[] c = new char[size(r, minLen, maxLen)];
        for (int i = 0; i < c.length; i++) {
            c[i] = alphabet.charAt(r.nextInt(alphabet.length()));
        }
        return new String(c);
    }

    /** One of {@code values}. */
    public static <T> T pick(SplittableRandom r, List<? extends T> values) {
        return values.get(r.nextInt(values.size()));
    }

    /** One of {@code values}. */
    @SafeVarargs
    public static <T> T pick(SplittableRandom r, T... values) {
        return values[r.nextInt(values.length)];
    }

    /** What one of {@code generators}, chosen evenly, makes. */
    @SafeVarargs
    public static <T> T oneOf(SplittableRandom r, Function<SplittableRandom, ? extends T>... generators) {
        return generators[r.nextInt(generators.length)].apply(r);
    }

    /** {@code minSize..maxSize} elements made by {@code element}. */
    public static <T> List<T> list(SplittableRandom r, int minSize, int maxSize, Function<SplittableRandom, T> element) {
        int n = size(r, minSize, maxSize);
        List<T> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(element.apply(r));
        }
        return out;
    }

    // ---- printing --------------------------------------------------------------------------------

    /** A printable form of a generated input: bytes in hex, strings escaped, records and lists element-wise. */
    public static String show(Object o) {
        StringBuilder sb = new StringBuilder();
        show(o, sb);
        return sb.toString();
    }

    private static void show(Object o, StringBuilder sb) {
        if (o == null) {
            sb.append("null");
        } else if (o instanceof byte[] b) {
            sb.append("byte[").append(b.length).append("] ");
            int n = Math.min(b.length, SHOW_LIMIT);
            for (int i = 0; i < n; i++) {
                sb.append(Character.forDigit((b[i] >> 4) & 0xf, 16)).append(Character.forDigit(b[i] & 0xf, 16));
            }
            if (n < b.length) {
                sb.append("… (").append(b.length - n).append(" more bytes: replay the try to see them)");
            }
        } else if (o instanceof CharSequence s) {
            sb.append('"');
            int n = Math.min(s.length(), SHOW_LIMIT);
            for (int i = 0; i < n; i++) {
                char c = s.charAt(i);
                if (c == '"' || c == '\\') {
                    sb.append('\\').append(c);
                } else if (c >= 0x20 && c < 0x7f) {
                    sb.append(c);
                } else {
                    sb.append(String.format("\\u%04x", (int) c));
                }
            }
            sb.append('"');
            if (n < s.length()) {
                sb.append("… (").append(s.length() - n).append(" more chars)");
            }
        } else if (o instanceof Object[] a) {
            show(List.of(a), sb);
        } else if (o instanceof Collection<?> c) {
            sb.append('[');
            String sep = "";
            for (Object e : c) {
                sb.append(sep);
                show(e, sb);
                sep = ", ";
            }
            sb.append(']');
        } else if (o instanceof Map<?, ?> m) {
            sb.append('{');
            String sep = "";
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(sep);
                show(e.getKey(), sb);
                sb.append('=');
                show(e.getValue(), sb);
                sep = ", ";
            }
            sb.append('}');
        } else if (o instanceof Record rec) {
            sb.append(rec.getClass().getSimpleName()).append('[');
            String sep = "";
            for (RecordComponent c : rec.getClass().getRecordComponents()) {
                sb.append(sep).append(c.getName()).append('=');
                try {
                    var get = c.getAccessor();
                    get.setAccessible(true);
                    show(get.invoke(rec), sb);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    sb.append('?');
                }
                sep = ", ";
            }
            sb.append(']');
        } else {
            sb.append(o);
        }
    }
}
