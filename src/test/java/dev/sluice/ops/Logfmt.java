package dev.sluice.ops;

import java.util.LinkedHashMap;
import java.util.Map;

/** A strict reader of one logfmt line as {@link AccessLogLine} writes it, for tests: keys in order, values unescaped. */
public final class Logfmt {

    private Logfmt() {
    }

    /** The line's pairs, in order; {@code -} stays {@code -}, a quoted value is unescaped. */
    public static Map<String, String> parse(String line) {
        if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("a line break inside a line: " + line);
        }
        Map<String, String> pairs = new LinkedHashMap<>();
        int at = 0;
        while (at < line.length()) {
            int eq = line.indexOf('=', at);
            if (eq <= at) {
                throw new IllegalArgumentException("key expected at " + at + ": " + line);
            }
            String key = line.substring(at, eq);
            if (!key.matches("[a-z_]+")) {
                throw new IllegalArgumentException("bad key '" + key + "': " + line);
            }
            at = eq + 1;
            StringBuilder value = new StringBuilder();
            if (at < line.length() && line.charAt(at) == '"') {
                at++;
                while (true) {
                    if (at >= line.length()) {
                        throw new IllegalArgumentException("unterminated value: " + line);
                    }
                    char c = line.charAt(at++);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        char e = line.charAt(at++);
                        switch (e) {
                            case '"', '\\' -> value.append(e);
                            case 'n' -> value.append('\n');
                            case 'r' -> value.append('\r');
                            case 't' -> value.append('\t');
                            case 'u' -> {
                                value.append((char) Integer.parseInt(line.substring(at, at + 4), 16));
                                at += 4;
                            }
                            default -> throw new IllegalArgumentException("bad escape: " + line);
                        }
                    } else {
                        value.append(c);
                    }
                }
            } else {
                int end = line.indexOf(' ', at);
                end = end < 0 ? line.length() : end;
                value.append(line, at, end);
                if (value.length() == 0 || value.indexOf("\"") >= 0 || value.indexOf("=") >= 0) {
                    throw new IllegalArgumentException("bad bare value at " + at + ": " + line);
                }
                at = end;
            }
            if (pairs.put(key, value.toString()) != null) {
                throw new IllegalArgumentException("duplicate key " + key + ": " + line);
            }
            if (at < line.length()) {
                if (line.charAt(at) != ' ') {
                    throw new IllegalArgumentException("one space expected at " + at + ": " + line);
                }
                at++;
                if (at == line.length()) {
                    throw new IllegalArgumentException("trailing space: " + line);
                }
            }
        }
        return pairs;
    }
}
