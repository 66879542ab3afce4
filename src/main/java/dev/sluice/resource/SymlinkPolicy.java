package dev.sluice.resource;

/**
 * Whether {@link FileResolver} may follow symbolic links found under the document root.
 */
public enum SymlinkPolicy {
    /** Follow links, but only to targets whose real path is still inside the document root. */
    INSIDE_ROOT("inside-root"),
    /** Refuse any path that has a symbolic link (or other reparse point) as one of its components. */
    NEVER("never");

    private final String settingValue;

    SymlinkPolicy(String settingValue) {
        this.settingValue = settingValue;
    }

    /**
     * Parses a configuration value, case-insensitively and ignoring surrounding whitespace.
     *
     * @throws IllegalArgumentException if the value is neither "inside-root" nor "never"
     */
    public static SymlinkPolicy parse(String value) {
        if (value != null) {
            String v = value.strip();
            for (SymlinkPolicy p : values()) {
                if (p.settingValue.equalsIgnoreCase(v)) {
                    return p;
                }
            }
        }
        throw new IllegalArgumentException(
                "Unknown symlink policy '" + value + "' (expected 'inside-root' or 'never')");
    }

    /** The configuration value that {@link #parse} maps to this policy. */
    public String settingValue() {
        return settingValue;
    }
}
