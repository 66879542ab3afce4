package dev.sluice.servlet;

import dev.sluice.stream.EngineSettings;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The form a setting's value takes, with its bounds: how its text becomes a value, what a message says a bad value
 * should have been, and how help text states the bounds.
 *
 * @param <T> the value's type
 */
public sealed interface SettingType<T> {

    /**
     * Reads a value from its trimmed, non-empty text.
     *
     * @throws Rejected if the text is not a value of this type, saying what was expected
     */
    T parse(String text);

    /** The value as a user would write it; {@link #parse} reads it back. */
    String format(T value);

    /**
     * The bounds or the choices as help text states them, in Markdown (choices in backticks): {@code 1KiB to 16MiB},
     * {@code 1 to 64}, {@code up to 24h}, {@code `direct`, `heap` or `mapped`}; empty for a type without any.
     */
    String range();

    /** What a message for a missing required setting asks for. */
    default String missing() {
        return "set it";
    }

    /** A text that is not a value of the type; the message says what was expected. */
    final class Rejected extends RuntimeException {

        Rejected(String expected) {
            super(expected, null, false, false);
        }
    }

    /**
     * A byte count, in plain bytes or with a binary unit: {@code KiB}, {@code MiB}, {@code GiB}, also {@code k},
     * {@code KB}, a trailing {@code b}, in any case ({@code 1MB} is 1,048,576 bytes, as nginx reads {@code 1m}).
     *
     * @param min the smallest size
     * @param max the largest size
     */
    record Size(long min, long max) implements SettingType<Long> {

        private static final Pattern SIZE = Pattern.compile("(\\d{1,19})\\s*([kmg]i?b?|b)?", Pattern.CASE_INSENSITIVE);
        private static final String[] UNITS = {"GiB", "MiB", "KiB"};

        static Size within(EngineSettings.Bounds bounds) {
            return new Size(bounds.min(), bounds.max());
        }

        @Override
        public Long parse(String text) {
            Matcher m = SIZE.matcher(text);
            Rejected rejected = new Rejected("expected a size" + bounds()
                    + " in bytes or with KiB, MiB or GiB, such as 65536, 64KiB or 1MiB");
            if (!m.matches()) {
                throw rejected;
            }
            long unit = switch (m.group(2) == null ? "b" : m.group(2).substring(0, 1).toLowerCase(Locale.ROOT)) {
                case "k" -> 1L << 10;
                case "m" -> 1L << 20;
                case "g" -> 1L << 30;
                default -> 1;
            };
            long bytes;
            try {
                bytes = Math.multiplyExact(Long.parseLong(m.group(1)), unit);
            } catch (ArithmeticException | NumberFormatException e) {
                throw rejected;
            }
            if (bytes < min || bytes > max) {
                throw rejected;
            }
            return bytes;
        }

        /** For a message: in the largest binary unit that holds it exactly, else in bytes ({@code 1000 bytes}). */
        static String describe(long bytes) {
            String text = new Size(0, EngineSettings.MAX_BYTES).format(bytes);
            return text.chars().allMatch(Character::isDigit) ? text + " bytes" : text;
        }

        /** In the largest binary unit that holds it exactly: {@code 256KiB}, {@code 0}, {@code 1000}. */
        @Override
        public String format(Long bytes) {
            for (int i = 0; i < UNITS.length; i++) {
                long unit = 1L << (10 * (UNITS.length - i));
                if (bytes != 0 && bytes % unit == 0) {
                    return bytes / unit + UNITS[i];
                }
            }
            return Long.toString(bytes);
        }

        @Override
        public String range() {
            return format(min) + " to " + format(max);
        }

        /** The bounds for a message: none where any size goes (a speed limit's), else both, in units. */
        private String bounds() {
            if (max >= EngineSettings.MAX_BYTES) {
                return min == 0 ? "" : " of at least " + format(min) + ",";
            }
            return " from " + format(min) + " to " + format(max) + ",";
        }
    }

    /**
     * A whole number.
     *
     * @param min the smallest number
     * @param max the largest number
     */
    record Whole(int min, int max) implements SettingType<Integer> {

        static Whole within(EngineSettings.Bounds bounds) {
            return new Whole(Math.toIntExact(bounds.min()), Math.toIntExact(bounds.max()));
        }

        @Override
        public Integer parse(String text) {
            try {
                int number = Integer.parseInt(text);
                if (number >= min && number <= max) {
                    return number;
                }
            } catch (NumberFormatException e) {
                // rejected below
            }
            throw new Rejected("expected a whole number from " + min + " to " + max);
        }

        @Override
        public String format(Integer value) {
            return value.toString();
        }

        @Override
        public String range() {
            return min + " to " + max;
        }
    }

    /**
     * A positive duration: a whole number with a unit {@code ms}, {@code s}, {@code m} or {@code h} in any case,
     * none meaning seconds.
     *
     * @param max the longest duration
     */
    record Span(Duration max) implements SettingType<Duration> {

        private static final Pattern DURATION = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h)?",
                Pattern.CASE_INSENSITIVE);

        /**
         * Reads a duration in the form this type takes, zero included; empty when the text has another form.
         * Whether zero is allowed is the caller's decision, as is the message that reports a bad value.
         */
        static Optional<Duration> read(String text) {
            Matcher m = DURATION.matcher(text);
            if (!m.matches()) {
                return Optional.empty();
            }
            long number = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
            return Optional.of(switch (unit) {
                case "ms" -> Duration.ofMillis(number);
                case "m" -> Duration.ofMinutes(number);
                case "h" -> Duration.ofHours(number);
                default -> Duration.ofSeconds(number);
            });
        }

        @Override
        public Duration parse(String text) {
            return read(text).filter(d -> !d.isZero() && d.compareTo(max) <= 0).orElseThrow(() -> new Rejected(
                    "expected a positive duration " + range() + " such as 500ms, 60s, 5m or 1h"));
        }

        /** In whole hours if it is some, else in whole seconds if it is some, else in milliseconds. */
        @Override
        public String format(Duration value) {
            if (!value.isZero() && value.toSeconds() % 3600 == 0 && value.toNanosPart() == 0) {
                return value.toHours() + "h";
            }
            return value.toMillisPart() == 0 ? value.toSeconds() + "s" : value.toMillis() + "ms";
        }

        @Override
        public String range() {
            return "up to " + format(max);
        }
    }

    /**
     * One of a few names, in any case.
     *
     * @param choices the names, in the order help text lists them, with their values
     */
    record OneOf<T>(Map<String, T> choices) implements SettingType<T> {

        public OneOf {
            choices = Collections.unmodifiableMap(new LinkedHashMap<>(choices));
        }

        /** The constants of an enum, named by {@code name}. */
        @SafeVarargs
        static <E> OneOf<E> of(Function<E, String> name, E... values) {
            Map<String, E> choices = new LinkedHashMap<>();
            for (E value : values) {
                choices.put(name.apply(value), value);
            }
            return new OneOf<>(choices);
        }

        static OneOf<Boolean> trueOrFalse() {
            return of(b -> Boolean.toString(b), true, false);
        }

        @Override
        public T parse(String text) {
            T value = choices.get(text.toLowerCase(Locale.ROOT));
            if (value == null) {
                throw new Rejected("expected one of " + String.join(", ", choices.keySet().stream().sorted().toList()));
            }
            return value;
        }

        @Override
        public String format(T value) {
            return choices.entrySet().stream().filter(e -> e.getValue().equals(value)).map(Map.Entry::getKey)
                    .findFirst().orElseThrow(() -> new IllegalArgumentException(value + " is not a choice"));
        }

        @Override
        public String range() {
            return alternatives(choices.keySet());
        }
    }

    /**
     * Comma-separated items, spaces around them ignored, each checked on its own.
     *
     * @param valid whether an item is allowed
     * @param what what an item should be, for the message {@code 'x' is not <what>}
     * @param lowerCase whether items are read in lower case
     * @param choices the only items allowed, for help text; empty when {@code valid} is a rule rather than a list
     */
    record ListOf(Predicate<String> valid, String what, boolean lowerCase, List<String> choices)
            implements SettingType<List<String>> {

        static ListOf matching(Pattern item, String what, boolean lowerCase) {
            return new ListOf(s -> item.matcher(s).matches(), what, lowerCase, List.of());
        }

        static ListOf oneOf(Collection<String> choices) {
            List<String> sorted = choices.stream().sorted().toList();
            return new ListOf(s -> sorted.contains(s.toLowerCase(Locale.ROOT)),
                    "one of " + String.join(", ", sorted), true, sorted);
        }

        @Override
        public List<String> parse(String text) {
            List<String> items = new ArrayList<>();
            for (String item : Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList()) {
                if (!valid.test(item)) {
                    throw new Rejected("'" + item + "' is not " + what);
                }
                items.add(lowerCase ? item.toLowerCase(Locale.ROOT) : item);
            }
            return List.copyOf(items);
        }

        @Override
        public String format(List<String> value) {
            return String.join(",", value);
        }

        @Override
        public String range() {
            return alternatives(choices);
        }
    }

    /**
     * Free text that must pass one check; empty is allowed and means none.
     *
     * @param valid whether a text is allowed
     * @param expected what the message says when it is not
     */
    record Text(Predicate<String> valid, String expected) implements SettingType<String> {

        /** Any text at all. */
        static Text any() {
            return new Text(text -> true, "");
        }

        @Override
        public String parse(String text) {
            if (!valid.test(text)) {
                throw new Rejected(expected);
            }
            return text;
        }

        @Override
        public String format(String value) {
            return value;
        }

        @Override
        public String range() {
            return "";
        }
    }

    /** A charset this JVM knows, read as its canonical lower-case name, or {@code none}: the empty string. */
    record CharsetName() implements SettingType<String> {

        @Override
        public String parse(String text) {
            if (text.equalsIgnoreCase("none")) {
                return "";
            }
            try {
                return Charset.forName(text).name().toLowerCase(Locale.ROOT);
            } catch (IllegalArgumentException e) {
                throw new Rejected("not a charset this JVM knows");
            }
        }

        @Override
        public String format(String value) {
            return value.isEmpty() ? "none" : value;
        }

        @Override
        public String range() {
            return "";
        }
    }

    /** An existing, readable directory, read as its real path. */
    record Directory() implements SettingType<Path> {

        @Override
        public Path parse(String text) {
            Path path;
            try {
                path = Path.of(text);
            } catch (InvalidPathException e) {
                throw new Rejected("not a valid path");
            }
            if (!Files.isDirectory(path)) {
                throw new Rejected("not an existing directory");
            }
            if (!Files.isReadable(path) || !Files.isExecutable(path)) {
                throw new Rejected("directory is not readable");
            }
            try {
                return path.toRealPath();
            } catch (IOException e) {
                throw new Rejected("cannot be resolved: " + e.getMessage());
            }
        }

        @Override
        public String format(Path value) {
            return value.toString();
        }

        @Override
        public String range() {
            return "";
        }

        @Override
        public String missing() {
            return "set it to the directory to serve";
        }
    }

    /** An existing, readable directory as {@link Directory} reads it, or empty text: none. */
    record OptionalDirectory() implements SettingType<Optional<Path>> {

        @Override
        public Optional<Path> parse(String text) {
            return Optional.of(new Directory().parse(text));
        }

        @Override
        public String format(Optional<Path> value) {
            return value.map(Path::toString).orElse("");
        }

        @Override
        public String range() {
            return "";
        }
    }

    /** {@code `a`}, {@code `a` or `b`}, {@code `a`, `b` or `c`}; empty for none. */
    private static String alternatives(Collection<String> names) {
        List<String> quoted = names.stream().map(n -> "`" + n + "`").toList();
        if (quoted.size() < 2) {
            return String.join("", quoted);
        }
        return String.join(", ", quoted.subList(0, quoted.size() - 1)) + " or " + quoted.get(quoted.size() - 1);
    }
}
