package io.xdyna.contract.job;

import java.security.SecureRandom;
import java.util.regex.Pattern;

/** Job ids end up in object keys and URLs, so they are restricted to a safe alphabet. */
public final class JobIds {
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");
    private static final char[] ALPHABET = "0123456789abcdefghijkmnopqrstuvwxyz".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private JobIds() {
    }

    public static boolean valid(String id) {
        return id != null && VALID.matcher(id).matches();
    }

    /** A new id: "j" + 20 random characters of a lower-case alphabet without look-alikes. */
    public static String newId() {
        StringBuilder sb = new StringBuilder("j");
        for (int i = 0; i < 20; i++) {
            sb.append(ALPHABET[RANDOM.nextInt(ALPHABET.length)]);
        }
        return sb.toString();
    }
}
