package dev.sluice.launcher;

import dev.sluice.http.SignedLinks;
import dev.sluice.servlet.ConfigException;
import dev.sluice.servlet.SluiceConfig;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The launcher's link minting: {@code --sign=PATH} with {@code --ttl=DURATION} or {@code --expires=UNIX_SECONDS}
 * (and optionally {@code --signPrefix=DIR}, {@code --signIp=ADDR}) prints the signed path and its query on one
 * line and exits, instead of starting a server. The key comes from the same settings the server reads
 * ({@code --signingKey} or {@code --signingKeyFile}); every other option is checked as usual and otherwise ignored,
 * so that a server's own command line can mint its links.
 */
final class SignCommand {

    static final String SIGN = "sign";
    static final String TTL = "ttl";
    static final String EXPIRES = "expires";
    static final String SIGN_PREFIX = "signPrefix";
    static final String SIGN_IP = "signIp";
    static final List<String> OPTIONS = List.of(SIGN, TTL, EXPIRES, SIGN_PREFIX, SIGN_IP);
    private static final Pattern EXPIRES_FORM = Pattern.compile("[1-9][0-9]{0,11}");

    private SignCommand() {
    }

    /** Whether the command line asks for a link rather than a server. */
    static boolean requested(String[] args) {
        for (String arg : args) {
            if (arg.startsWith("--") && OPTIONS.contains(name(arg))) {
                return true;
            }
        }
        return false;
    }

    private static String name(String arg) {
        int eq = arg.indexOf('=');
        return eq < 0 ? arg.substring(2) : arg.substring(2, eq);
    }

    /**
     * Prints the link to {@code out}, or a message to {@code err}.
     *
     * @return the exit status: 0 when a link was printed, 2 for a usage or configuration error
     */
    static int run(String[] args, long nowEpochSeconds, PrintStream out, PrintStream err) {
        try {
            out.println(link(args, nowEpochSeconds));
            return 0;
        } catch (IllegalArgumentException | ConfigException e) {
            err.println("sluice: " + e.getMessage());
            return 2;
        }
    }

    /** The signed link that {@code args} ask for. */
    static String link(String[] args, long nowEpochSeconds) {
        Map<String, String> options = new LinkedHashMap<>();
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--") || !OPTIONS.contains(name(arg))) {
                rest.add(arg);
                continue;
            }
            String name = name(arg);
            String value;
            if (arg.indexOf('=') > 0) {
                value = arg.substring(arg.indexOf('=') + 1);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException("option --" + name + " needs a value");
            }
            if (options.put(name, value) != null) {
                throw new IllegalArgumentException("option --" + name + " is given twice");
            }
        }
        // The other options first: a misspelt one ("--ttl1") is the mistake to name, not the missing "--ttl".
        Map<String, String> settings = Launcher.parse(rest.toArray(String[]::new)).settings();
        String path = options.get(SIGN);
        if (path == null) {
            throw new IllegalArgumentException("--" + String.join(", --", options.keySet()) + " without --sign=PATH");
        }
        if (options.containsKey(TTL) == options.containsKey(EXPIRES)) {
            throw new IllegalArgumentException("--sign needs either --ttl=DURATION (such as 1h) or"
                    + " --expires=UNIX_SECONDS");
        }
        long expires = options.containsKey(TTL) ? expiresAfter(options.get(TTL), nowEpochSeconds)
                : expiresAt(options.get(EXPIRES), nowEpochSeconds);
        Optional<SignedLinks> links = SluiceConfig.signedLinks(settings::get);
        if (links.isEmpty()) {
            throw new IllegalArgumentException("--sign needs the key: --signingKey=KEY or --signingKeyFile=FILE");
        }
        return links.get().signer().sign(path, expires, options.get(SIGN_PREFIX), options.get(SIGN_IP));
    }

    private static long expiresAfter(String ttl, long now) {
        Duration duration = SluiceConfig.parseDuration(ttl).filter(d -> !d.isZero())
                .orElseThrow(() -> new IllegalArgumentException("option --ttl has invalid value '" + ttl
                        + "': expected a positive duration such as 90s, 30m or 24h"));
        long seconds = duration.plusMillis(999).toSeconds();
        if (seconds > SignedLinks.MAX_EXPIRES - now) {
            throw new IllegalArgumentException("option --ttl has invalid value '" + ttl + "': expires after "
                    + SignedLinks.MAX_EXPIRES + " (Unix seconds)");
        }
        return now + seconds;
    }

    private static long expiresAt(String text, long now) {
        if (!EXPIRES_FORM.matcher(text).matches()) {
            throw new IllegalArgumentException("option --expires has invalid value '" + text
                    + "': expected a Unix time in seconds, from 1 to " + SignedLinks.MAX_EXPIRES);
        }
        long expires = Long.parseLong(text);
        if (expires <= now) {
            throw new IllegalArgumentException("option --expires has invalid value '" + text
                    + "': that time is already past (now " + now + ")");
        }
        return expires;
    }
}
