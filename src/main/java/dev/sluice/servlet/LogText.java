package dev.sluice.servlet;

/** Values from requests and applications, made safe to put in a log line or a message. */
final class LogText {

    /** Longer values are cut: a log line should not carry a megabyte header. */
    static final int MAX = 256;

    private LogText() {
    }

    /**
     * {@code value} in single quotes, with every character outside printable ASCII (controls such as CR and LF
     * that could forge a log line, and anything else) and the quote and backslash escaped as {@code \}{@code uXXXX},
     * cut after {@value #MAX} characters; {@code null} unquoted.
     */
    static String quote(Object value) {
        if (value == null) {
            return "null";
        }
        String text = value.toString();
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX) + 8).append('\'');
        for (int i = 0; i < text.length() && i < MAX; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '\'' || c == '\\') {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (text.length() > MAX) {
            out.append("...");
        }
        return out.append('\'').toString();
    }
}
