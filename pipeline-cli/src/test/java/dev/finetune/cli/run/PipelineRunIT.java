package dev.finetune.cli.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.cli.CliRun;
import dev.finetune.cli.trace.CollectedSpan;
import dev.finetune.cli.trace.TraceTree;
import dev.finetune.llm.memory.NativeAllocator;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;

/**
 * The whole pipeline as `finetune run` runs it: the packaged services as processes against the real
 * broker and S3 server, the example dataset published as an upstream event, and the spans the
 * services export over OTLP. Then the people's CLI against the same running services.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineRunIT {
    private static final String API_KEY = "integration-test-key-0123456789";
    /** A second key every service accepts, with the least role, for the console's browser test. */
    private static final String VIEWER_KEY = "integration-viewer-key-0123456789";

    /** Kept after the run: the services' logs are what a failure is read from. */
    private final Path work = Path.of("target/pipeline-run-it").toAbsolutePath();

    private final Path home =
            Path.of(System.getProperty("finetune.home", "..")).toAbsolutePath().normalize();
    private LocalPipeline pipeline;
    private PipelineFlow.Outcome outcome;

    @BeforeAll
    void startPipeline() throws Exception {
        dev.finetune.storage.LocalDirectories.deleteRecursively(work);
        Files.createDirectories(work);
        Map<String, String> keys =
                Map.of("PIPELINE_SECURITY_API_KEYS", "finetune-cli:admin:" + API_KEY + ",vic:viewer:" + VIEWER_KEY);
        Map<String, Map<String, String>> serviceEnv = new java.util.HashMap<>();
        ServiceSpec.ALL.forEach(spec -> serviceEnv.put(spec.name(), keys));
        pipeline = new LocalPipeline(new LocalPipeline.Options(home, work, API_KEY, serviceEnv));
        pipeline.start(System.out::println);
    }

    @AfterAll
    void stopPipeline() {
        if (pipeline != null) {
            pipeline.close();
        }
    }

    @Test
    @Order(1)
    void datasetEventBecomesARegisteredAdapterThatBeatsItsBaseModel() throws Exception {
        outcome = new PipelineFlow(
                        pipeline, settings("support-assistant", "examples/data/support-assistant.jsonl"), System.out)
                .run(work);

        JsonNode manifest = outcome.datasetVersionView().path("manifest");
        assertThat(manifest.path("invalidLines").asLong())
                .as("the broken line of the export")
                .isEqualTo(1);
        assertThat(manifest.path("exactDuplicates").asLong()).isEqualTo(2);
        assertThat(manifest.path("nearDuplicates").asLong())
                .as("rows of one template differ in their device: alike as text, not as examples")
                .isZero();
        long train = manifest.path("train").path("examples").asLong();
        assertThat(train).isGreaterThan(150);

        assertThat(outcome.job().path("state").asText()).isEqualTo("succeeded");
        long steps = (long) Math.ceil(train / 8.0) * RunCommand.DEMO_EPOCHS;
        assertThat(outcome.job().path("step").asLong()).isEqualTo(steps);

        JsonNode evaluation = outcome.evaluation();
        assertThat(evaluation.path("status").asText()).isEqualTo("passed");
        assertThat(evaluation.path("step").asLong()).isEqualTo(steps);
        double loss = evaluation.path("metrics").path("eval_loss").asDouble();
        double baseLoss = evaluation.path("baseMetrics").path("eval_loss").asDouble();
        assertThat(loss).as("eval_loss of the adapter vs the base model").isLessThan(baseLoss * 0.2);
        // The demo's promise: the adapter answers held-out questions (a template with a device it
        // never saw in it) word for word; the random base model, prompted or not, answers none.
        assertThat(evaluation.path("generations").size())
                .as("every test example is generated")
                .isEqualTo(manifest.path("test").path("examples").asInt());
        assertThat(evaluation.path("metrics").path("exact_match").asDouble())
                .as("exact match of the adapter on the test split")
                .isGreaterThanOrEqualTo(0.6);
        assertThat(evaluation.path("baseMetrics").path("exact_match").asDouble())
                .as("exact match of the zero-shot base model")
                .isZero();
        assertThat(evaluation.path("promptBaselineMetrics").path("exact_match").asDouble())
                .as("exact match of the prompted base model")
                .isZero();

        assertThat(outcome.model()).isEqualTo("tiny-chat-support-assistant");
        assertThat(outcome.version()).isEqualTo(1);
        JsonNode version = outcome.versionView().path("version");
        assertThat(version.path("kind").asText()).isEqualTo("adapter");
        assertThat(version.path("aliases").toString())
                .as("promoted by the policy")
                .contains("production");
        assertThat(fieldNames(version.path("files")))
                .contains(
                        "adapter_config.json",
                        "adapter_model.safetensors",
                        "README.md",
                        "lineage.json",
                        "metrics.json");
        assertThat(outcome.versionView().path("lineage").path("traceId").asText())
                .isEqualTo(outcome.traceId());
    }

    @Test
    @Order(2)
    void oneTraceLinksIngestionPreparationTrainingEvaluationAndRegistration() throws InterruptedException {
        assumeTrue(outcome != null, "the run of the first test failed");
        // A stage of the pipeline -> a span only it makes.
        Map<String, CollectedSpanName> stages = Map.of(
                "ingestion", new CollectedSpanName("dataset-service", "datasets.submitted receive"),
                "preparation", new CollectedSpanName("dataset-service", "datasets.prepared publish"),
                "training", new CollectedSpanName("training-service", "training.train"),
                "evaluation", new CollectedSpanName("eval-service", "eval.evaluation"),
                "registration", new CollectedSpanName("registry-service", "registry.events publish"));

        List<CollectedSpan> spans = completeTrace(stages.values(), Duration.ofSeconds(20));

        stages.forEach((stage, expected) -> assertThat(spans)
                .as(stage)
                .anyMatch(
                        s -> s.service().equals(expected.service()) && s.name().equals(expected.name())));
        // One tree: every span hangs off another span of the trace, except the consumer span of the
        // upstream event, whose parent is the publisher's (not exported) span.
        assertThat(TraceTree.orphans(spans))
                .extracting(CollectedSpan::name)
                .containsExactly("datasets.submitted receive");
        // A span per phase and per checkpoint, not per progress report: 60 reported steps would be
        // 60 spans more (the README's demo run, 560 steps and 3 checkpoints, stays under 80 too).
        assertThat(spans).noneMatch(s -> s.name().startsWith("training.events"));
        assertThat(spans).hasSizeLessThan(80);
    }

    @Test
    @Order(2)
    void everySpanOfTheWorkCarriesWhatItIsAbout() {
        assumeTrue(outcome != null, "the run of the first test failed");
        List<CollectedSpan> spans = pipeline.traces().trace(outcome.traceId());
        String job = outcome.job().path("id").asText();
        assertThat(named(spans, "datasets.prepared publish"))
                .containsEntry("dataset.name", "support-assistant")
                .containsEntry("dataset.version", "1");
        assertThat(named(spans, "training.train"))
                .containsEntry("job.id", job)
                .containsEntry("dataset.name", "support-assistant")
                .containsEntry("dataset.version", "1")
                .containsEntry("model.base", "tiny-chat")
                .containsEntry("finetune.method", "lora")
                .containsEntry("finetune.objective", "sft");
        assertThat(named(spans, "eval.checkpoint-metrics"))
                .containsEntry("job.id", job)
                .containsEntry("model.base", "tiny-chat")
                .containsKey("evaluation.id");
        assertThat(named(spans, "registry.events publish"))
                .containsEntry("job.id", job)
                .containsEntry("registry.model", "tiny-chat-support-assistant")
                .containsEntry("registry.version", "1");
    }

    @Test
    @Order(2)
    void servicesLogJsonLinesWithTheJobAndTheTraceAsFields() throws Exception {
        assumeTrue(outcome != null, "the run of the first test failed");
        String job = outcome.job().path("id").asText();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(work.resolve("logs").resolve("training-service.log"))) {
            if (line.startsWith("{")) {
                lines.add(json.readTree(line));
            }
        }
        assertThat(lines)
                .as("training-service's JSON log lines about job %s", job)
                .filteredOn(line -> job.equals(line.path("mdc").path("job.id").asText()))
                .isNotEmpty()
                .allSatisfy(line -> {
                    assertThat(line.path("message").asText()).isNotBlank();
                    assertThat(line.path("level").asText()).isNotBlank();
                    assertThat(line.path("mdc").path("dataset.name").asText()).isEqualTo("support-assistant");
                    assertThat(line.path("mdc").path("traceId").asText()).matches("[0-9a-f]{32}");
                });
    }

    /** The services that run models start on the allocator the images preload, as the memory estimates assume. */
    @Test
    @Order(2)
    void modelServicesRunOnTheAllocatorTheImagesPreload() throws Exception {
        assumeTrue(outcome != null, "the run of the first test failed");
        assumeTrue(NativeAllocator.installed().isPresent(), NativeAllocator.LIBRARY + " is not installed");
        for (String service : List.of("training-service", "eval-service")) {
            assertThat(Files.readString(work.resolve("logs").resolve(service + ".log")))
                    .as(service)
                    .contains("native allocator: jemalloc (MALLOC_CONF=" + NativeAllocator.CONFIG + ")");
        }
    }

    /** The run's LoRA adapter on a fp32 base is evaluated with compiled decoding steps, as the eval-service log says. */
    @Test
    @Order(2)
    void evaluationGeneratesWithCompiledDecodingSteps() throws Exception {
        assumeTrue(outcome != null, "the run of the first test failed");
        assertThat(Files.readString(work.resolve("logs").resolve("eval-service.log")))
                .contains("decoding steps run compiled")
                .doesNotContain("decoding steps run op by op");
    }

    /** The attributes of the one span of the trace named {@code name}. */
    private static Map<String, String> named(List<CollectedSpan> spans, String name) {
        List<CollectedSpan> found =
                spans.stream().filter(s -> s.name().equals(name)).toList();
        assertThat(found).as(name).isNotEmpty();
        return found.get(0).attributes();
    }

    private record CollectedSpanName(String service, String name) {}

    /**
     * The run's trace once the expected spans and every parent have arrived: spans are exported as
     * they end, a producer span (ended by the broker's ack) sometimes after its consumer parent.
     */
    private List<CollectedSpan> completeTrace(java.util.Collection<CollectedSpanName> expected, Duration timeout)
            throws InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<CollectedSpan> spans = pipeline.traces().trace(outcome.traceId());
            Set<CollectedSpanName> seen = spans.stream()
                    .map(s -> new CollectedSpanName(s.service(), s.name()))
                    .collect(Collectors.toSet());
            boolean complete =
                    seen.containsAll(expected) && TraceTree.orphans(spans).size() <= 1;
            if (complete || System.nanoTime() > until) {
                return spans;
            }
            Thread.sleep(500);
        }
    }

    @Test
    @Order(3)
    void peopleCliListsPromotesAndDownloadsTheRegisteredAdapter() throws Exception {
        assumeTrue(outcome != null, "the run of the first test failed");
        assertThat(cli("job", "list"))
                .contains("ds-support-assistant-1")
                .contains("succeeded")
                .contains(outcome.job().path("step").asLong() + "/"
                        + outcome.job().path("step").asLong());
        assertThat(cli("model", "list")).containsPattern("tiny-chat +imported +Qwen3ForCausalLM");
        assertThat(cli("registry", "versions", "tiny-chat-support-assistant"))
                .contains("v1")
                .contains("passed")
                .contains("production");
        Path adapter = work.resolve("downloaded");
        String download = cli("registry", "download", "tiny-chat-support-assistant", "1", "--out", adapter.toString());
        assertThat(download).contains("adapter_model.safetensors");
        JsonNode config = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(adapter.resolve("adapter_config.json").toFile());
        assertThat(config.path("peft_type").asText()).isEqualTo("LORA");
        assertThat(Files.size(adapter.resolve("adapter_model.safetensors"))).isPositive();
        assertThat(cli(
                        "registry",
                        "promote",
                        "tiny-chat-support-assistant",
                        "1",
                        "--alias",
                        "staging",
                        "--reason",
                        "it"))
                .contains("staging -> v1");
        assertThat(cli("dataset", "list", "support-assistant"))
                .contains("prepared")
                .contains("1 invalid lines");
    }

    /**
     * The web console in headless Chromium against the run's services: a viewer signs in, sees the
     * prepared dataset's report with its invalid line, the job's loss curve drawn from its event stream,
     * its evaluation and the registered version, and no Promote button, and a promotion it posts anyway
     * is refused; an admin promotes the version to a new alias and sees it there, and a job form with a
     * bad learning rate comes back with the training-service's error next to that field.
     */
    @Test
    @Order(4)
    void consoleShowsTheRunInABrowserAndOnlyAnAdminPromotes() throws Exception {
        assumeTrue(outcome != null, "the run of the first test failed");
        String job = outcome.job().path("id").asText();
        long step = outcome.job().path("step").asLong();
        String model = "/models/" + outcome.model();
        try (ConsoleBrowser browser = ConsoleBrowser.open(pipeline.consoleUrl(), work.resolve("console-screenshots"))) {
            browser.step("sign-in", () -> {
                browser.signIn("not-a-key-of-this-run-0123456789");
                assertThat(browser.text("#sign-in-error")).isEqualTo("this API key is not known");
                browser.signIn(VIEWER_KEY);
                assertThat(browser.text("#signed-in-as")).isEqualTo("vic (viewer)");
                var cookie = browser.driver.manage().getCookieNamed("console_session");
                assertThat(cookie.isHttpOnly()).isTrue();
                assertThat(cookie.getSameSite()).isEqualTo("Strict");
                assertThat(browser.driver.getPageSource()).doesNotContain(VIEWER_KEY);
            });
            browser.step("dataset", () -> {
                browser.get("/datasets/support-assistant/1");
                assertThat(browser.text("#dataset-status")).isEqualTo("prepared");
                assertThat(browser.count("#report tr.invalid-line")).isEqualTo(1);
                assertThat(browser.text("#report tr.invalid-line")).contains("messages", "required");
                assertThat(browser.text("#stats tr td:nth-of-type(4)"))
                        .as("the first split's mean token length, to one decimal")
                        .matches("\\d+\\.\\d");
                browser.get("/datasets/support-assistant/1?filter=no-such-reason");
                assertThat(browser.count("#report tr.invalid-line")).isZero();
                JsonNode manifest = outcome.datasetVersionView().path("manifest");
                long examples = manifest.path("train").path("examples").asLong()
                        + manifest.path("validation").path("examples").asLong()
                        + manifest.path("test").path("examples").asLong();
                assertThat(((Number) browser.script("return window.lengthHistogram.data[1].reduce((a, b) => a + b, 0)"))
                                .longValue())
                        .as("the histogram's bars count every example of the three splits")
                        .isEqualTo(examples);
                assertThat(((Number) browser.script("const c = document.querySelector('#length-histogram canvas');"
                                        + "const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                                        + "let bar = 0; for (let i = 0; i < px.length; i += 4)"
                                        + " if (px[i] === 0x93 && px[i + 1] === 0xc5 && px[i + 2] === 0xfd) bar++;"
                                        + "return bar;"))
                                .longValue())
                        .as("pixels of the bars' fill on the histogram's canvas")
                        .isGreaterThan(100);
            });
            browser.step("job", () -> {
                browser.get("/jobs");
                assertThat(browser.text("#jobs")).contains(job, "succeeded", step + "/" + step);
                browser.get("/jobs/" + job);
                browser.await(Duration.ofSeconds(20), "the loss curve gets the job's metrics events", b -> {
                    Object points = b.script("return window.jobCharts && window.jobCharts.loss.data[0].length");
                    return points instanceof Number n && n.longValue() > 1;
                });
                assertThat(browser.count("#chart-loss canvas")).isEqualTo(1);
                assertThat(((Number) browser.script("return Math.max(...window.jobCharts.loss.data[0])")).longValue())
                        .as("the curve's steps are the job's")
                        .isBetween(1L, step);
                assertThat(browser.script("return window.jobCharts.loss.data[1].every(Number.isFinite)"))
                        .as("every loss point is a number")
                        .isEqualTo(true);
                assertThat(browser.count("#cancel"))
                        .as("a finished job has no Cancel")
                        .isZero();
                assertThat(browser.text("#evaluation-" + step)).contains("passed", "eval_loss", "exact_match");
            });
            browser.step("viewer-version", () -> {
                browser.get(model);
                browser.driver
                        .findElement(By.cssSelector("tr.version[data-version='1'] a[href$='/versions/1']"))
                        .click();
                assertThat(browser.text("#model-card h1")).isEqualTo(outcome.model() + " v1");
                assertThat(browser.count("#model-card table"))
                        .as("the card's GFM tables")
                        .isGreaterThanOrEqualTo(3);
                assertThat(browser.driver
                                .findElement(By.cssSelector("#card-front-matter pre"))
                                .getAttribute("textContent"))
                        .contains("library_name: peft");
                String adapter = "adapter_model.safetensors";
                String href = browser.driver
                        .findElement(By.cssSelector("a.download[data-file='" + adapter + "']"))
                        .getDomProperty("href");
                String cookie = "console_session="
                        + browser.driver
                                .manage()
                                .getCookieNamed("console_session")
                                .getValue();
                HttpClient http = HttpClient.newHttpClient();
                HttpResponse<byte[]> download = http.send(
                        HttpRequest.newBuilder(URI.create(href))
                                .header("Cookie", cookie)
                                .build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(download.statusCode()).isEqualTo(200);
                assertThat(download.headers().firstValue("Content-Disposition"))
                        .hasValue("attachment; filename=\"" + adapter + "\"");
                JsonNode file =
                        outcome.versionView().path("version").path("files").path(adapter);
                assertThat(download.body()).hasSize(file.path("size").asInt());
                assertThat(java.util.HexFormat.of()
                                .formatHex(java.security.MessageDigest.getInstance("SHA-256")
                                        .digest(download.body())))
                        .as("the download's SHA-256 against the registry's manifest")
                        .isEqualTo(file.path("sha256").asText());
                assertThat(http.send(
                                        HttpRequest.newBuilder(URI.create(href)).build(),
                                        HttpResponse.BodyHandlers.discarding())
                                .statusCode())
                        .as("without the session: sent to sign in")
                        .isEqualTo(303);
                assertThat(http.send(
                                        HttpRequest.newBuilder(URI.create(href.replace(adapter, "..%2F" + adapter)))
                                                .header("Cookie", cookie)
                                                .build(),
                                        HttpResponse.BodyHandlers.discarding())
                                .statusCode())
                        .as("a name the version does not list")
                        .isEqualTo(404);
            });
            browser.step("viewer-registry", () -> {
                browser.get(model);
                assertThat(browser.text("#versions")).contains("available", "passed", job);
                assertThat(browser.text("#aliases")).contains("production");
                assertThat(browser.count(".promote-button")).isZero();
                assertThat(browser.post(model + "/promote", "version=1&newAlias=by-viewer"))
                        .as("a viewer's promotion, posted with its own CSRF token")
                        .isEqualTo(403);
                browser.signOut();
            });
            browser.step("admin-promotes", () -> {
                browser.signIn(API_KEY);
                browser.get(model);
                assertThat(browser.post(model + "/promote", "version=1&target=production%400"))
                        .as("production points at v1, not nowhere: the expected-version check refuses")
                        .isEqualTo(409);
                browser.driver
                        .findElement(By.cssSelector("tr.version[data-version='1'] input[name=newAlias]"))
                        .sendKeys("console-pick");
                browser.driver
                        .findElement(By.cssSelector("tr.version[data-version='1'] .promote-button"))
                        .click();
                browser.await(
                        Duration.ofSeconds(10),
                        "the model page shows the new alias",
                        b -> b.count(".alias-version[data-alias='console-pick']") == 1);
                assertThat(browser.text(".alias-version[data-alias='console-pick']"))
                        .isEqualTo("1");
                assertThat(browser.text("#aliases")).contains("none → v1 by finetune-cli");
            });
            browser.step("job-form", () -> {
                browser.get("/jobs/new");
                browser.driver.findElement(By.id("baseModel")).sendKeys("tiny-chat");
                browser.driver.findElement(By.id("dataset")).sendKeys("support-assistant@1");
                browser.driver.findElement(By.id("learning_rate")).sendKeys("-0.5");
                browser.driver
                        .findElement(By.cssSelector("form.job-form button"))
                        .click();
                browser.await(Duration.ofSeconds(10), "the form comes back with the error", b -> b.count(".error") > 0);
                assertThat(browser.text("#error-learning_rate"))
                        .contains("learning_rate")
                        .contains("-0.5");
                assertThat(browser.driver.findElement(By.id("dataset")).getDomProperty("value"))
                        .isEqualTo("support-assistant@1");

                // The learning rate corrected, the form (submitted from the keyboard) creates the job and
                // the browser follows it: its curves gain points while it trains, without a reload, and
                // Cancel stops it.
                var learningRate = browser.driver.findElement(By.id("learning_rate"));
                learningRate.clear();
                learningRate.sendKeys("0.0005");
                browser.typeAndSubmit("#max_steps", "100000"); // Enter in a field submits, as with any form
                browser.await(Duration.ofSeconds(20), "the created job's page", b -> b.count("#job-id") == 1);
                String created = browser.text("#job-id");
                assertThat(created).isNotEqualTo(job);
                browser.await(
                        Duration.ofSeconds(120),
                        "the created job trains and its loss curve gets points",
                        b -> lossPoints(b) >= 1);
                long seen = lossPoints(browser);
                browser.await(
                        Duration.ofSeconds(60),
                        "the loss curve gains points while the job trains, without a reload",
                        b -> lossPoints(b) > seen);
                assertThat(browser.text("#job-state")).isEqualTo("running");
                browser.submit(browser.driver.findElement(By.id("cancel")));
                browser.await(Duration.ofSeconds(60), "the job's page shows it cancelled", b -> "cancelled"
                        .equals(b.text("#job-state")));
                assertThat(browser.count("#cancel"))
                        .as("a cancelled job has no Cancel")
                        .isZero();
            });
            browser.step("dataset-upload", () -> {
                Path small = work.resolve("console-upload.jsonl");
                Files.write(
                        small,
                        Files.readAllLines(home.resolve("examples/data/support-assistant.jsonl"))
                                .subList(0, 5));
                browser.get("/datasets");
                browser.driver.findElement(By.id("upload-name")).sendKeys("Console Upload");
                browser.driver.findElement(By.id("upload-file")).sendKeys(small.toString());
                browser.driver
                        .findElement(By.cssSelector("form.upload-form button"))
                        .click();
                browser.await(Duration.ofSeconds(10), "the form comes back with the error", b -> b.count(".error") > 0);
                assertThat(browser.text("#error-name"))
                        .as("the dataset-service's refusal, next to the name")
                        .contains("dataset name", "'Console Upload'");
                var name = browser.driver.findElement(By.id("upload-name"));
                name.clear();
                name.sendKeys("console-upload");
                browser.driver.findElement(By.id("upload-file")).sendKeys(small.toString());
                browser.driver
                        .findElement(By.cssSelector("form.upload-form button"))
                        .click();
                assertThat(browser.text("#uploaded")).contains("console-upload@1");
                assertThat(browser.text("table[data-dataset='console-upload']")).contains("1");
            });
        }
        assertThat(Files.readString(work.resolve("logs/console.log")))
                .as("the console's log after the browser's visit: the job page's event stream ended cleanly")
                .doesNotContain("Response has already been written");
    }

    /**
     * GRPO through the services: a prompt dataset (with reference answers) uploaded and prepared by the
     * dataset-service, a grpo job with rule rewards trained by the training-service, and its final
     * checkpoint evaluated by the eval-service with the job's own rewards: the policy's mean reward
     * and its KL to the base next to the base's own reward.
     */
    @Test
    @Order(5)
    void grpoPolicyTrainsOnPromptsAndIsEvaluatedByItsOwnRewardsAndItsKlToTheBase() throws Exception {
        Path prompts = home.resolve("examples/data/arithmetic-grpo.jsonl");
        assertThat(cli("dataset", "upload", prompts.toString(), "--name", "arithmetic"))
                .startsWith("arithmetic version 1 (sha256 ");
        awaitOutput(Duration.ofSeconds(60), "prepared", "dataset", "list", "arithmetic");
        String created = cli(
                "job",
                "create",
                "--base-model",
                "tiny-chat",
                "--dataset",
                "arithmetic@1",
                "--objective",
                "grpo",
                "--set",
                "max_steps=2",
                "--set",
                "num_generations=4",
                "--set",
                "per_device_train_batch_size=8",
                "--set",
                "max_completion_length=8",
                "--set",
                "reward_funcs=exact_match,length:4");
        String jobId = created.split(" ")[1];
        CliRun watch = execute(API_KEY, "job", "watch", jobId, "--timeout", "PT3M");
        assertThat(watch.exit()).as(watch.out()).isZero();

        JsonNode report = null;
        long until = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (report == null && System.nanoTime() < until) {
            for (JsonNode r : pipeline.services().eval().get("api/evaluations?jobId=" + jobId)) {
                if (r.path("step").asLong() == 2 && !r.path("status").asText().isEmpty()) {
                    report = r;
                }
            }
            Thread.sleep(500);
        }
        assertThat(report)
                .as("the evaluation of the grpo job's final checkpoint")
                .isNotNull();
        assertThat(report.path("status").asText()).as(report.toString()).isIn("passed", "failed");
        assertThat(report.path("metrics").path("reward").isNumber())
                .as("the policy's mean reward by the job's own reward_funcs: %s", report.path("metrics"))
                .isTrue();
        double kl = report.path("metrics").path("kl").asDouble(Double.NaN);
        assertThat(kl).as("the policy's k3 KL to the base").isFinite().isGreaterThanOrEqualTo(0);
        assertThat(report.path("baseMetrics").path("reward").isNumber())
                .as("the base's own reward, side by side: %s", report.path("baseMetrics"))
                .isTrue();
    }

    /** The points on the job page's loss curve so far (the events its stream has delivered). */
    private static long lossPoints(ConsoleBrowser browser) {
        Object points = browser.script("return window.jobCharts ? window.jobCharts.loss.data[0].length : 0");
        return points instanceof Number n ? n.longValue() : 0;
    }

    @Test
    @Order(5)
    void peopleCliUploadsAndPublishesDatasetsAndCreatesCancelsAndWatchesAJob() throws Exception {
        Path file = home.resolve("examples/data/support-assistant.jsonl");
        assertThat(cli("dataset", "upload", file.toString(), "--name", "support-upload"))
                .startsWith("support-upload version 1 (sha256 ");
        assertThat(cli("dataset", "upload", file.toString(), "--name", "support-upload"))
                .contains("these bytes were already this version");
        var stack = pipeline.stack();
        assertThat(cli(
                        "dataset",
                        "publish",
                        file.toString(),
                        "--name",
                        "support-published",
                        "--kafka",
                        stack.kafkaBootstrapServers(),
                        "--s3-endpoint",
                        stack.s3Endpoint(),
                        "--s3-access-key",
                        stack.s3AccessKey(),
                        "--s3-secret-key",
                        stack.s3SecretKey()))
                .contains("s3://upstream-exports/exports/support-published/support-assistant.jsonl");
        awaitOutput(Duration.ofSeconds(30), "prepared", "dataset", "list", "support-published");

        String created = cli(
                "job",
                "create",
                "--base-model",
                "tiny-chat",
                "--dataset",
                "support-upload@1",
                "--set",
                "max_steps=5000",
                "--set",
                "save_steps=10000",
                "--idempotency-key",
                "cli-it");
        String jobId = created.split(" ")[1];
        assertThat(cli("job", "cancel", jobId)).startsWith("job " + jobId);
        CliRun watch = execute(API_KEY, "job", "watch", jobId, "--timeout", "PT2M");
        assertThat(watch.exit()).as("a cancelled job is not a success").isEqualTo(1);
        assertThat(watch.out()).contains("job " + jobId + " cancelled");
    }

    /**
     * An operator's repair: a submission whose object is not there yet is dead-lettered by the
     * dataset-service; `finetune dlq list` shows it with the reason, `show` its event, and once the
     * object exists `replay` puts the record back on datasets.submitted, where it is consumed and
     * becomes a prepared version.
     */
    @Test
    @Order(6)
    void deadLetteredSubmissionIsListedShownAndReplayedOnceItsObjectExists() throws Exception {
        var stack = pipeline.stack();
        String topic = "datasets.submitted.dlq.dataset-service";
        String key = "exports/dlq-replay/late.jsonl";
        java.net.URI uri = java.net.URI.create("s3://" + PipelineFlow.UPSTREAM_BUCKET + "/" + key);
        dev.finetune.cli.datasets.UpstreamSubmission.publish(
                new dev.finetune.events.DatasetSubmitted(
                        "dlq-replay",
                        null,
                        uri,
                        dev.finetune.events.DatasetFormat.AUTO,
                        null,
                        Map.of(),
                        java.time.Instant.now()),
                stack.kafkaBootstrapServers());

        String servers = stack.kafkaBootstrapServers();
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String line = null;
        while (line == null && System.nanoTime() < until) {
            CliRun list = dlq("list", topic, "--bootstrap-servers", servers);
            line = list.exit() != 0
                    ? null
                    : list.out()
                            .lines()
                            .filter(l -> l.contains("dlq-replay"))
                            .findFirst()
                            .orElse(null);
            Thread.sleep(500);
        }
        assertThat(line)
                .as("the dead-lettered submission in `finetune dlq list`")
                .isNotNull();
        assertThat(line).contains("dev.finetune.dataset.submitted.v1");
        String offset = line.trim().split("\\s+")[1];
        CliRun show = dlq("show", topic, offset, "--bootstrap-servers", servers);
        assertThat(show.exit()).as(show.err()).isZero();
        assertThat(show.out())
                .contains("dead-letter-topic: datasets.submitted")
                .contains("\"objectUri\" : \"" + uri + "\"");

        try (var upstream = new dev.finetune.storage.ObjectStore(dev.finetune.storage.ObjectStoreConfig.of(
                stack.s3Endpoint(), stack.s3AccessKey(), stack.s3SecretKey(), PipelineFlow.UPSTREAM_BUCKET))) {
            upstream.ensureBucket();
            upstream.putFile(key, home.resolve("examples/data/support-assistant.jsonl"), "application/jsonl");
        }
        CliRun replay = dlq("replay", topic, offset, "--bootstrap-servers", servers);
        assertThat(replay.exit()).as(replay.err()).isZero();
        assertThat(replay.out()).startsWith("replayed " + topic + " offset " + offset + " to datasets.submitted");
        awaitOutput(Duration.ofSeconds(60), "prepared", "dataset", "list", "dlq-replay");
    }

    @Test
    @Order(7)
    void unknownKeyIsRefusedAndTheFailingCallIsNamed() {
        CliRun list = execute("wrong-key-wrong-key-wrong-key", "job", "list");
        assertThat(list.exit()).isEqualTo(1);
        assertThat(list.err()).contains("training-service GET api/jobs answered 401");
    }

    @Test
    @Order(8)
    void rejectedDatasetStopsTheRunAtPreparationWithTheBadLines() throws Exception {
        Path broken = work.resolve("broken.jsonl");
        Files.writeString(broken, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\nnot json at all\n");
        PipelineFlow flow = new PipelineFlow(pipeline, settings("broken-export", broken.toString()), System.out);
        assertThatThrownBy(() -> flow.run(work.resolve("broken-run")))
                .isInstanceOfSatisfying(
                        StageFailedException.class, e -> assertThat(e.stage()).isEqualTo(Stage.PREPARATION))
                .hasMessageContaining("rejected")
                .hasMessageContaining("line 2: invalid JSON")
                .hasMessageContaining("line 1, messages[0].role: must end with an assistant message");
    }

    /**
     * The console's pages with 100 jobs and 1,000 events in the run's training-service (see {@link
     * ConsolePageBenchmark}); on demand only ({@code -Dbenchmark=true}): it reports and asserts no time.
     * Writes {@code target/console-benchmark.md}.
     */
    @Test
    @Order(8)
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "benchmark", matches = "true")
    void consolePagesWithAHundredJobsAndAThousandEvents() throws Exception {
        assumeTrue(outcome != null, "the run of the first test failed");
        ConsolePageBenchmark benchmark = new ConsolePageBenchmark(pipeline.store(), pipeline.consoleUrl());
        String job = benchmark.fill(outcome.job().path("id").asText());
        String report = benchmark.measure(API_KEY, job);
        System.out.println(report);
        ConsolePageBenchmark.write(Path.of("target/console-benchmark.md"), report);
    }

    @Test
    @Order(9)
    void closingStopsEveryServiceItStarted() throws Exception {
        var services = pipeline.services();
        List<URI> bases = List.of(
                services.datasets().base(),
                services.training().base(),
                services.eval().base(),
                services.registry().base(),
                pipeline.consoleUrl());
        pipeline.close();
        HttpClient http = HttpClient.newHttpClient();
        for (URI base : bases) {
            assertThatThrownBy(() -> http.send(
                            HttpRequest.newBuilder(base.resolve("q/health/live"))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding()))
                    .as(base.toString())
                    .isInstanceOf(ConnectException.class);
        }
        assertThat(work.resolve("stack"))
                .as("the broker's and the S3 server's data")
                .doesNotExist();
    }

    private PipelineFlow.Settings settings(String datasetName, String file) {
        Path dataset = Path.of(file).isAbsolute() ? Path.of(file) : home.resolve(file);
        return new PipelineFlow.Settings(
                dataset,
                datasetName,
                "tiny-chat",
                List.of("--hidden", "128", "--layers", "2"),
                RunCommand.demoTraining(RunCommand.DEMO_LEARNING_RATE, RunCommand.DEMO_EPOCHS)
                        .toPlainMap(),
                Duration.ofMinutes(10));
    }

    /** Runs `finetune ARGS` against the running services with {@code apiKey}. */
    private CliRun execute(String apiKey, String... args) {
        return CliRun.of(withServices(apiKey, args));
    }

    /** Runs `finetune dlq ARGS` (it talks to the broker, not to the services). */
    private static CliRun dlq(String... args) {
        List<String> all = new ArrayList<>(List.of("dlq"));
        all.addAll(List.of(args));
        return CliRun.of(all.toArray(String[]::new));
    }

    /** The output of a command that must succeed. */
    private String cli(String... args) {
        CliRun run = execute(API_KEY, args);
        assertThat(run.exit())
                .as("finetune %s: %s", String.join(" ", args), run.err())
                .isZero();
        return run.out();
    }

    private void awaitOutput(Duration timeout, String expected, String... args) throws InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (!last.contains(expected) && System.nanoTime() < until) {
            CliRun run = execute(API_KEY, args);
            last = run.exit() == 0 ? run.out() : "";
            Thread.sleep(500);
        }
        assertThat(last).as("finetune %s", String.join(" ", args)).contains(expected);
    }

    private String[] withServices(String apiKey, String... args) {
        var services = pipeline.services();
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(
                "--dataset-url", services.datasets().base().toString(),
                "--training-url", services.training().base().toString(),
                "--eval-url", services.eval().base().toString(),
                "--registry-url", services.registry().base().toString(),
                "--api-key", apiKey));
        return all.toArray(String[]::new);
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
