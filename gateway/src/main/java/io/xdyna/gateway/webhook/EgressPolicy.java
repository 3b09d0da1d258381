package io.xdyna.gateway.webhook;

import io.xdyna.shared.config.ConfigException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Where webhooks may go. A callback URL is refused when its host is, or resolves to, an address no
 * tenant should reach through the gateway: loopback, unspecified, private (RFC 1918 and the
 * carrier-grade NAT range), link-local, unique-local, multicast, broadcast or reserved, or a cloud
 * metadata service; IPv4 inside IPv6 (mapped, compatible, NAT64, 6to4) is judged as the IPv4 address
 * it carries. A name is refused when <em>any</em> of its addresses is, so a name cannot hide a
 * private address among public ones. Operators may allow ranges explicitly ({@code XDYNA_WEBHOOK_ALLOW},
 * e.g. {@code loopback} for a developer's own receiver, or {@code 10.20.0.0/16} for an internal hook
 * service).
 *
 * <p>{@link #check} is used twice: when a job is submitted (a clear 4xx) and when each delivery is
 * made, whose connection then goes to the address checked here (never resolved again), so a name
 * that answers a public address first and a private one later (DNS rebinding) gains nothing.
 */
public final class EgressPolicy {

    /** Resolves a host name to its addresses; injectable so tests never depend on real DNS. */
    @FunctionalInterface
    public interface Resolver {
        List<InetAddress> resolve(String host) throws UnknownHostException;

        Resolver SYSTEM = host -> Arrays.asList(InetAddress.getAllByName(host));
    }

    /** A callback the policy refuses; the message says why, for the client. */
    public static final class Refused extends RuntimeException {
        public Refused(String message) {
            super(message);
        }
    }

    /** A checked callback: where to connect (the address the check approved) and for which URL. */
    public record Target(URI uri, String host, int port, InetAddress address) {
    }

    /** Host names of metadata services that resolve to a refused address anyway, refused by name too. */
    static final Set<String> METADATA_NAMES = Set.of("metadata.google.internal", "metadata.goog",
            "metadata", "instance-data", "instance-data.ec2.internal", "metadata.azure.internal");

    private final List<Cidr> allowed;
    private final Resolver resolver;

    public EgressPolicy(List<Cidr> allowed, Resolver resolver) {
        this.allowed = List.copyOf(allowed);
        this.resolver = resolver;
    }

    /** The default: nothing internal is allowed, names resolved by the system resolver. */
    public static EgressPolicy strict() {
        return new EgressPolicy(List.of(), Resolver.SYSTEM);
    }

    /**
     * Parses {@code XDYNA_WEBHOOK_ALLOW}: comma-separated CIDR ranges ({@code 10.20.0.0/16},
     * {@code fd00::/8}, a bare address) and the word {@code loopback} ({@code 127.0.0.0/8} and
     * {@code ::1}). Null or blank allows nothing beyond public addresses.
     */
    public static EgressPolicy parse(String variable, String value, Resolver resolver) {
        List<Cidr> ranges = new ArrayList<>();
        if (value != null) {
            for (String raw : value.split(",")) {
                String v = raw.trim();
                if (v.isEmpty()) {
                    continue;
                }
                if (v.equalsIgnoreCase("loopback")) {
                    ranges.add(Cidr.parse("127.0.0.0/8"));
                    ranges.add(Cidr.parse("::1/128"));
                    continue;
                }
                try {
                    ranges.add(Cidr.parse(v));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(variable + " must be a comma-separated list of CIDR ranges or"
                            + " 'loopback', got '" + v + "': " + e.getMessage());
                }
            }
        }
        return new EgressPolicy(ranges, resolver);
    }

    public EgressPolicy withResolver(Resolver r) {
        return new EgressPolicy(allowed, r);
    }

    public List<Cidr> allowed() {
        return allowed;
    }

    /**
     * Resolves the URL's host once and checks every address. Blocking (DNS).
     *
     * @return the first address, to connect to
     * @throws Refused when the host cannot be resolved or any of its addresses is refused
     */
    public Target check(URI uri) {
        String host = uri.getHost();
        if (host == null) {
            throw new Refused("callbackUrl has no host");
        }
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        String name = bare.toLowerCase(Locale.ROOT);
        while (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (METADATA_NAMES.contains(name) && allowed.isEmpty()) {
            throw new Refused("callbackUrl host " + host + " is a cloud metadata service; webhooks may not go there");
        }
        List<InetAddress> addresses;
        try {
            addresses = resolver.resolve(bare);
        } catch (UnknownHostException e) {
            throw new Refused("callbackUrl host " + host + " does not resolve");
        }
        if (addresses == null || addresses.isEmpty()) {
            throw new Refused("callbackUrl host " + host + " does not resolve");
        }
        for (InetAddress a : addresses) {
            Optional<String> why = refusal(a);
            if (why.isPresent()) {
                boolean literal = isLiteral(bare);
                throw new Refused("callbackUrl host " + host + (literal ? " is " : " resolves to ")
                        + why.get() + " address " + a.getHostAddress()
                        + "; webhooks may only go to public addresses");
            }
        }
        int port = uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
        return new Target(uri, bare, port, addresses.get(0));
    }

    private static boolean isLiteral(String host) {
        return host.contains(":") || host.chars().allMatch(c -> Character.isDigit(c) || c == '.');
    }

    /** Why an address is refused (its class), or empty when it may be contacted. */
    public Optional<String> refusal(InetAddress a) {
        for (Cidr c : allowed) {
            if (c.contains(a)) {
                return Optional.empty();
            }
        }
        return classify(a);
    }

    /** The class of a non-public address (loopback, private, ...), or empty for a public one. */
    public static Optional<String> classify(InetAddress a) {
        byte[] b = a.getAddress();
        if (a instanceof Inet6Address) {
            byte[] v4 = embeddedIpv4(b);
            if (v4 != null) {
                try {
                    return classify(InetAddress.getByAddress(v4)).map(c -> c + " (IPv4 inside IPv6)");
                } catch (UnknownHostException e) {
                    throw new IllegalStateException(e);
                }
            }
            return classify6(b);
        }
        return classify4(b);
    }

    private static Optional<String> classify4(byte[] b) {
        int x = ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
        if (x == 0xA9FEA9FE || x == 0x646464C8 /* 100.100.100.200, Alibaba */) {
            return Optional.of("a cloud metadata");
        }
        if (in4(x, 0x7F000000, 8)) {
            return Optional.of("a loopback");
        }
        if (in4(x, 0x00000000, 8)) {
            return Optional.of("an unspecified (this-network)");
        }
        if (in4(x, 0x0A000000, 8) || in4(x, 0xAC100000, 12) || in4(x, 0xC0A80000, 16)) {
            return Optional.of("a private");
        }
        if (in4(x, 0x64400000, 10)) {
            return Optional.of("a private (carrier-grade NAT)");
        }
        if (in4(x, 0xA9FE0000, 16)) {
            return Optional.of("a link-local");
        }
        if (in4(x, 0xE0000000, 4)) {
            return Optional.of("a multicast");
        }
        if (in4(x, 0xF0000000, 4)) {
            return Optional.of("a reserved or broadcast");
        }
        if (in4(x, 0xC0000000, 24) || in4(x, 0xC0000200, 24) || in4(x, 0xC6336400, 24) || in4(x, 0xCB007100, 24)
                || in4(x, 0xC6120000, 15)) {
            return Optional.of("a special-purpose (IETF, documentation or benchmarking)");
        }
        return Optional.empty();
    }

    private static boolean in4(int x, int net, int bits) {
        int mask = bits == 0 ? 0 : -1 << (32 - bits);
        return (x & mask) == (net & mask);
    }

    private static Optional<String> classify6(byte[] b) {
        if (allZero(b, 0, 15) && b[15] == 1) {
            return Optional.of("a loopback");
        }
        if (allZero(b, 0, 16)) {
            return Optional.of("an unspecified");
        }
        // fd00:ec2::254, the IPv6 address of AWS's instance metadata service
        if ((b[0] & 0xff) == 0xfd && b[1] == 0 && (b[2] & 0xff) == 0x0e && (b[3] & 0xff) == 0xc2
                && allZero(b, 4, 14) && b[14] == 0x02 && (b[15] & 0xff) == 0x54) {
            return Optional.of("a cloud metadata");
        }
        if ((b[0] & 0xff) == 0xff) {
            return Optional.of("a multicast");
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80) {
            return Optional.of("a link-local");
        }
        if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0xc0) {
            return Optional.of("a site-local");
        }
        if ((b[0] & 0xfe) == 0xfc) {
            return Optional.of("a unique-local");
        }
        if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x01 && (b[2] & 0xff) == 0x0d && (b[3] & 0xff) == 0xb8) {
            return Optional.of("a documentation");
        }
        if ((b[0] & 0xe0) != 0x20) {
            // outside 2000::/3, the only globally routed unicast block
            return Optional.of("a reserved");
        }
        return Optional.empty();
    }

    /** The IPv4 address carried by a mapped, compatible, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address. */
    static byte[] embeddedIpv4(byte[] b) {
        if (allZero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
            return Arrays.copyOfRange(b, 12, 16);
        }
        if (allZero(b, 0, 12) && !(allZero(b, 12, 15) && (b[15] == 0 || b[15] == 1))) {
            return Arrays.copyOfRange(b, 12, 16);
        }
        if (b[0] == 0 && b[1] == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b && allZero(b, 4, 12)) {
            return Arrays.copyOfRange(b, 12, 16);
        }
        if (b[0] == 0x20 && b[1] == 0x02) {
            return Arrays.copyOfRange(b, 2, 6);
        }
        return null;
    }

    private static boolean allZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "EgressPolicy[allowed=" + allowed + "]";
    }

    /** An address range: a network address and a prefix length. */
    public record Cidr(byte[] network, int bits) {
        public static Cidr parse(String s) {
            int slash = s.indexOf('/');
            String addr = slash < 0 ? s : s.substring(0, slash);
            if (!addr.contains(":") && !addr.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
                throw new IllegalArgumentException("not an IP address: " + addr);
            }
            byte[] net;
            try {
                // a literal: parsed without any name lookup
                net = InetAddress.getByName(addr).getAddress();
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("not an IP address: " + addr);
            }
            int bits;
            try {
                bits = slash < 0 ? net.length * 8 : Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad prefix length in " + s);
            }
            if (bits < 0 || bits > net.length * 8) {
                throw new IllegalArgumentException("prefix length must be 0.." + net.length * 8 + " in " + s);
            }
            return new Cidr(net, bits);
        }

        public boolean contains(InetAddress a) {
            byte[] b = a.getAddress();
            if (b.length != network.length && a instanceof Inet6Address) {
                b = embeddedIpv4(b);
            }
            if (b == null || b.length != network.length) {
                return false;
            }
            for (int i = 0; i < bits; i++) {
                int mask = 0x80 >> (i % 8);
                if ((b[i / 8] & mask) != (network[i / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public String toString() {
            try {
                return InetAddress.getByAddress(network).getHostAddress() + "/" + bits;
            } catch (UnknownHostException e) {
                return "?/" + bits;
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Cidr c && c.bits == bits && Arrays.equals(c.network, network);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(network) * 31 + bits;
        }
    }
}
