package dev.sluice.ops;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of Prometheus' text exposition format 0.0.4, for tests: it fails on anything a Prometheus server
 * would refuse or that breaks the format's rules, and on what the naming conventions forbid. Checked: the line
 * grammar (names, labels and their escapes, values), {@code # HELP} and {@code # TYPE} at most once per family and
 * before its samples, a family's samples together, no series twice, counters named {@code _total} and never
 * negative, histograms with increasing {@code le} bounds, non-decreasing cumulative counts, an {@code le="+Inf"}
 * bucket equal to {@code _count}, and a {@code _sum}; and the text ends with a line feed.
 */
public final class PrometheusParser {

    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern VALUE = Pattern.compile("[+-]?(Inf|NaN|\\d+(\\.\\d*)?([eE][+-]?\\d+)?|\\.\\d+([eE][+-]?\\d+)?)");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    /** A family: its name, type, help and samples in order. */
    public record Family(String name, String type, String help, List<Sample> samples) {

        /** The value of the sample named {@code name} with exactly {@code labels}. */
        public double value(String sampleName, Map<String, String> labels) {
            return samples.stream().filter(s -> s.name().equals(sampleName) && s.labels().equals(labels))
                    .findFirst().orElseThrow(() -> new AssertionError("no sample " + sampleName + labels + " in "
                            + samples)).value();
        }
    }

    private PrometheusParser() {
    }

    /** The families of {@code text}, by name, in order. */
    public static Map<String, Family> parse(String text) {
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new IllegalArgumentException("the text must end with a line feed");
        }
        Map<String, String> types = new LinkedHashMap<>();
        Map<String, String> helps = new LinkedHashMap<>();
        Map<String, List<Sample>> samples = new LinkedHashMap<>();
        Set<String> series = new HashSet<>();
        Set<String> closed = new HashSet<>();
        String current = null;
        int number = 0;
        for (String line : text.split("\n", -1)) {
            number++;
            if (line.isEmpty()) {
                continue;
            }
            String where = "line " + number + " '" + line + "': ";
            if (line.startsWith("#")) {
                String[] parts = line.split(" ", 4);
                if (parts.length >= 3 && (parts[1].equals("HELP") || parts[1].equals("TYPE"))) {
                    String name = parts[2];
                    check(NAME.matcher(name).matches(), where + "bad name");
                    check(!samples.containsKey(name) && !closed.contains(name), where + parts[1]
                            + " after the family's samples");
                    if (parts[1].equals("HELP")) {
                        check(helps.put(name, parts.length > 3 ? unescapeHelp(parts[3], where) : "") == null,
                                where + "second HELP");
                    } else {
                        check(parts.length == 4 && TYPES.contains(parts[3]), where + "bad type");
                        check(types.put(name, parts[3]) == null, where + "second TYPE");
                    }
                }
                continue;
            }
            Sample sample = sample(line, where);
            String family = familyOf(sample.name(), types);
            if (!family.equals(current)) {
                check(!closed.contains(family) && !samples.containsKey(family), where + "family " + family
                        + " is split");
                if (current != null) {
                    closed.add(current);
                }
                current = family;
            }
            check(series.add(sample.name() + new TreeMap<>(sample.labels())), where + "series twice");
            samples.computeIfAbsent(family, f -> new ArrayList<>()).add(sample);
        }
        Map<String, Family> families = new LinkedHashMap<>();
        for (Map.Entry<String, List<Sample>> e : samples.entrySet()) {
            String type = types.getOrDefault(e.getKey(), "untyped");
            Family family = new Family(e.getKey(), type, helps.get(e.getKey()), List.copyOf(e.getValue()));
            if (type.equals("counter")) {
                check(e.getKey().endsWith("_total"), e.getKey() + ": a counter's name ends with _total");
                check(family.samples().stream().allMatch(s -> s.value() >= 0), e.getKey() + ": negative counter");
            }
            if (type.equals("histogram")) {
                checkHistogram(family);
            }
            families.put(e.getKey(), family);
        }
        return families;
    }

    private static String familyOf(String sampleName, Map<String, String> types) {
        for (String suffix : List.of("_bucket", "_sum", "_count")) {
            if (sampleName.endsWith(suffix)) {
                String base = sampleName.substring(0, sampleName.length() - suffix.length());
                String type = types.get(base);
                if ("histogram".equals(type) || ("summary".equals(type) && !suffix.equals("_bucket"))) {
                    return base;
                }
            }
        }
        return sampleName;
    }

    private static void checkHistogram(Family family) {
        Map<Map<String, String>, List<Sample>> byLabels = new LinkedHashMap<>();
        Map<Map<String, String>, Double> sums = new LinkedHashMap<>();
        Map<Map<String, String>, Double> counts = new LinkedHashMap<>();
        for (Sample s : family.samples()) {
            if (s.name().equals(family.name() + "_bucket")) {
                check(s.labels().containsKey("le"), family.name() + ": a bucket without le");
                Map<String, String> rest = new TreeMap<>(s.labels());
                rest.remove("le");
                byLabels.computeIfAbsent(rest, k -> new ArrayList<>()).add(s);
            } else if (s.name().equals(family.name() + "_sum")) {
                sums.put(new TreeMap<>(s.labels()), s.value());
            } else if (s.name().equals(family.name() + "_count")) {
                counts.put(new TreeMap<>(s.labels()), s.value());
            } else {
                throw new IllegalArgumentException(family.name() + ": " + s.name() + " in a histogram");
            }
        }
        check(!byLabels.isEmpty(), family.name() + ": a histogram without buckets");
        for (Map.Entry<Map<String, String>, List<Sample>> e : byLabels.entrySet()) {
            double bound = Double.NEGATIVE_INFINITY;
            double count = 0;
            for (Sample bucket : e.getValue()) {
                double le = parseValue(bucket.labels().get("le"), family.name() + ": le ");
                check(le > bound, family.name() + ": le bounds must increase");
                check(bucket.value() >= count, family.name() + ": cumulative counts must not decrease");
                bound = le;
                count = bucket.value();
            }
            check(bound == Double.POSITIVE_INFINITY, family.name() + ": the last bucket must be le=\"+Inf\"");
            check(counts.containsKey(e.getKey()) && counts.get(e.getKey()) == count,
                    family.name() + ": the +Inf bucket must equal _count");
            check(sums.containsKey(e.getKey()), family.name() + ": no _sum");
        }
    }

    private static Sample sample(String line, String where) {
        Matcher name = NAME.matcher(line);
        check(name.lookingAt(), where + "bad name");
        int at = name.end();
        Map<String, String> labels = new LinkedHashMap<>();
        if (at < line.length() && line.charAt(at) == '{') {
            at++;
            while (line.charAt(at) != '}') {
                Matcher label = LABEL.matcher(line).region(at, line.length());
                check(label.lookingAt(), where + "bad label name");
                check(!label.group().startsWith("__"), where + "reserved label name");
                at = label.end();
                check(line.charAt(at) == '=' && line.charAt(at + 1) == '"', where + "=\" expected");
                at += 2;
                StringBuilder value = new StringBuilder();
                while (line.charAt(at) != '"') {
                    char c = line.charAt(at++);
                    if (c == '\\') {
                        char e = line.charAt(at++);
                        check(e == '\\' || e == '"' || e == 'n', where + "bad escape in a label value");
                        value.append(e == 'n' ? '\n' : e);
                    } else {
                        value.append(c);
                    }
                }
                at++;
                check(labels.put(label.group(), value.toString()) == null, where + "label twice");
                if (line.charAt(at) == ',') {
                    at++;
                }
            }
            at++;
        }
        check(at < line.length() && line.charAt(at) == ' ', where + "one space before the value");
        String[] rest = line.substring(at + 1).split(" ", -1);
        check(rest.length == 1 || (rest.length == 2 && rest[1].matches("-?\\d+")), where + "value [timestamp]");
        return new Sample(line.substring(0, name.end()), labels, parseValue(rest[0], where));
    }

    private static double parseValue(String text, String where) {
        check(VALUE.matcher(text).matches(), where + "bad value '" + text + "'");
        if (text.endsWith("Inf")) {
            return text.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        return text.endsWith("NaN") ? Double.NaN : Double.parseDouble(text);
    }

    private static String unescapeHelp(String text, String where) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                char e = text.charAt(++i);
                check(e == '\\' || e == 'n', where + "bad escape in HELP");
                out.append(e == 'n' ? '\n' : e);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
