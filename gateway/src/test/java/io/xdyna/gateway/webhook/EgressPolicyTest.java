package io.xdyna.gateway.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.shared.config.ConfigException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every class of address a webhook must not reach, by literal and by name. Names are resolved by a
 * table (never real DNS); literals are parsed by the JDK, which looks nothing up for them.
 */
class EgressPolicyTest {
    static final Map<String, List<String>> NAMES = Map.of(
            "localhost", List.of("127.0.0.1", "::1"),
            "hooks.internal.example", List.of("10.1.2.3"),
            "mixed.example", List.of("93.184.216.34", "192.168.1.20"),
            "public.example", List.of("93.184.216.34", "2606:2800:220:1::1"),
            "metadata.google.internal", List.of("169.254.169.254"));

    static final EgressPolicy.Resolver TABLE = host -> {
        if (host.matches("[0-9.]+") || host.contains(":")) {
            return List.of(InetAddress.getByName(host));
        }
        List<String> a = NAMES.get(host);
        if (a == null) {
            throw new UnknownHostException(host);
        }
        List<InetAddress> out = new ArrayList<>();
        for (String s : a) {
            out.add(InetAddress.getByName(s));
        }
        return out;
    };

    static final EgressPolicy STRICT = new EgressPolicy(List.of(), TABLE);

    /** Each refused URL and the class its message must name. */
    static final Map<String, String> REFUSED = Map.ofEntries(
            Map.entry("http://127.0.0.1:9000/", "loopback"),
            Map.entry("http://127.8.9.10/", "loopback"),
            // java.net.URI sees no host in a two-part IPv4 form: refused as malformed
            Map.entry("http://127.1/", "no host"),
            Map.entry("http://2130706433/", "loopback"),
            Map.entry("http://[::1]:8081/metrics", "loopback"),
            Map.entry("http://localhost:9092/", "loopback"),
            Map.entry("http://0.0.0.0:8080/", "unspecified"),
            Map.entry("http://[::]/", "unspecified"),
            Map.entry("http://10.0.0.1/", "private"),
            Map.entry("http://172.16.5.4/", "private"),
            Map.entry("http://172.31.255.255/", "private"),
            Map.entry("http://192.168.1.1/", "private"),
            Map.entry("http://100.64.0.1/", "carrier-grade NAT"),
            Map.entry("http://hooks.internal.example/x", "private"),
            Map.entry("http://mixed.example/x", "private"),
            Map.entry("http://169.254.1.1/", "link-local"),
            Map.entry("http://[fe80::1]/", "link-local"),
            Map.entry("http://169.254.169.254/latest/meta-data/", "metadata"),
            Map.entry("http://100.100.100.200/", "metadata"),
            Map.entry("http://[fd00:ec2::254]/", "metadata"),
            Map.entry("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
            Map.entry("http://[fc00::1]/", "unique-local"),
            Map.entry("http://[fd12:3456::1]/", "unique-local"),
            Map.entry("http://224.0.0.1/", "multicast"),
            Map.entry("http://239.255.255.250:1900/", "multicast"),
            Map.entry("http://[ff02::1]/", "multicast"),
            Map.entry("http://255.255.255.255/", "broadcast"),
            Map.entry("http://240.0.0.1/", "reserved"),
            Map.entry("http://[::ffff:127.0.0.1]/", "loopback"),
            Map.entry("http://[::ffff:169.254.169.254]/", "metadata"),
            Map.entry("http://[::ffff:a00:1]/", "private"),
            Map.entry("http://[64:ff9b::a9fe:a9fe]/", "metadata"),
            Map.entry("http://[2002:c0a8:101::1]/", "private"),
            Map.entry("http://nowhere.invalid/", "does not resolve"));

    @Test
    @DisplayName("loopback, unspecified, private, CGNAT, link-local, metadata, unique-local, multicast, broadcast and IPv4-in-IPv6 forms are refused, by literal and by name")
    void refusesEveryInternalClass() {
        REFUSED.forEach((url, why) -> assertThatThrownBy(() -> STRICT.check(URI.create(url))).as(url)
                .isInstanceOf(EgressPolicy.Refused.class).hasMessageContaining(why));
    }

    @Test
    @DisplayName("public addresses pass and the checked address is the one to connect to")
    void allowsPublicAddresses() {
        EgressPolicy.Target t = STRICT.check(URI.create("https://public.example/hook"));
        assertThat(t.address().getHostAddress()).isEqualTo("93.184.216.34");
        assertThat(t.port()).isEqualTo(443);
        assertThat(t.host()).isEqualTo("public.example");
        assertThat(STRICT.check(URI.create("http://8.8.8.8:8080/")).port()).isEqualTo(8080);
        assertThat(STRICT.check(URI.create("http://[2606:4700::1111]/")).address().getHostAddress())
                .isEqualTo("2606:4700:0:0:0:0:0:1111");
    }

    @Test
    @DisplayName("an allow-list opens exactly its ranges: 'loopback' allows 127/8 and ::1, not private networks")
    void allowListOpensOnlyItsRanges() {
        EgressPolicy dev = EgressPolicy.parse("XDYNA_WEBHOOK_ALLOW", "loopback, 10.20.0.0/16", TABLE);
        assertThat(dev.check(URI.create("http://127.0.0.1:9999/")).address().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(dev.check(URI.create("http://localhost:9999/")).port()).isEqualTo(9999);
        assertThat(dev.check(URI.create("http://[::1]/")).port()).isEqualTo(80);
        assertThat(dev.check(URI.create("http://10.20.3.4/")).address().getHostAddress()).isEqualTo("10.20.3.4");
        assertThatThrownBy(() -> dev.check(URI.create("http://10.21.0.1/"))).hasMessageContaining("private");
        assertThatThrownBy(() -> dev.check(URI.create("http://169.254.169.254/"))).hasMessageContaining("metadata");
        assertThatThrownBy(() -> EgressPolicy.parse("XDYNA_WEBHOOK_ALLOW", "intranet", TABLE))
                .isInstanceOf(ConfigException.class).hasMessageContaining("XDYNA_WEBHOOK_ALLOW");
        assertThatThrownBy(() -> EgressPolicy.parse("XDYNA_WEBHOOK_ALLOW", "10.0.0.0/33", TABLE))
                .isInstanceOf(ConfigException.class);
        assertThat(EgressPolicy.parse("XDYNA_WEBHOOK_ALLOW", " ", TABLE).allowed()).isEmpty();
    }
}
