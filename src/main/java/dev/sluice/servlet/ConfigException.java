package dev.sluice.servlet;

/** A setting is missing or has a value Sluice cannot use. The message names the setting and the value. */
public final class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message);
    }

    static ConfigException invalid(Setting<?> setting, String value, String expected) {
        return new ConfigException("Sluice setting '" + setting.key() + "' has invalid value '" + value + "': "
                + expected);
    }
}
