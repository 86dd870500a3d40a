package dev.finetune.service.testing;

import static io.restassured.RestAssured.given;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One scrape of a service's {@code /q/metrics} (Prometheus text format), read as a scraper reads
 * it: series by name and labels. Tests take one before and one after the work and compare.
 */
public final class Scrape {
    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** One series: its name, labels and value. */
    public record Sample(String name, Map<String, String> labels, double value) {
        boolean matches(String wanted, Map<String, String> wantedLabels) {
            return name.equals(wanted)
                    && wantedLabels.entrySet().stream()
                            .allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
        }
    }

    private final String text;
    private final List<Sample> samples;

    private Scrape(String text, List<Sample> samples) {
        this.text = text;
        this.samples = samples;
    }

    /**
     * Scrapes the service under test without an API key, in the Prometheus text format (asked for by
     * name: a client that accepts anything is answered in OpenMetrics).
     */
    public static Scrape now() {
        String text = given().accept("text/plain; version=0.0.4")
                .when()
                .get("/q/metrics")
                .then()
                .statusCode(200)
                .contentType(org.hamcrest.Matchers.startsWith("text/plain"))
                .extract()
                .asString();
        return parse(text);
    }

    static Scrape parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line.trim());
            if (!m.matches()) {
                continue;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2).replace("\\\"", "\"").replace("\\\\", "\\"));
                }
            }
            samples.add(
                    new Sample(m.group(1), labels, Double.parseDouble(m.group(4).replace("Inf", "Infinity"))));
        }
        return new Scrape(text, samples);
    }

    /** The sum of the series named {@code name} whose labels include {@code labels}; 0 if there is none. */
    public double value(String name, Map<String, String> labels) {
        return samples.stream()
                .filter(s -> s.matches(name, labels))
                .mapToDouble(Sample::value)
                .sum();
    }

    public double value(String name) {
        return value(name, Map.of());
    }

    /** Whether a series named {@code name} with these labels exists. */
    public boolean has(String name, Map<String, String> labels) {
        return samples.stream().anyMatch(s -> s.matches(name, labels));
    }

    /** Every series whose labels include {@code labels}, whatever its name. */
    public List<Sample> withLabels(Map<String, String> labels) {
        return samples.stream().filter(s -> s.matches(s.name(), labels)).toList();
    }

    /** The scrape as the service sent it. */
    public String text() {
        return text;
    }
}
