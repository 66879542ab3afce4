package dev.sluice.servlet;

/**
 * A setting is missing or has a value Sluice cannot use. The message names the setting and the value.
 *
 * <p>No stack trace: it is the operator's mistake, not the code's, and a container logs the exception of a failed
 * start at every layer it passes (Jetty four times), so a trace of Sluice's and the container's frames buried the
 * one line that says what to fix.
 */
public final class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message, null, false, false);
    }

    static ConfigException invalid(Setting<?> setting, String value, String expected) {
        return new ConfigException("Sluice setting '" + setting.key() + "' has invalid value '" + value + "': "
                + expected);
    }
}
