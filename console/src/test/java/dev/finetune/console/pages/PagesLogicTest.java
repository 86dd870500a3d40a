package dev.finetune.console.pages;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.console.services.Service;
import dev.finetune.console.services.ServiceErrorException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PagesLogicTest {
    @Test
    void theReportFilterKeepsLinesWhoseFieldOrReasonContainsItIgnoringCase() {
        List<Map<String, Object>> errors = List.of(
                Map.of("line", 3, "field", "messages", "reason", "is missing"),
                Map.of("line", 7, "field", "output", "reason", "is not valid JSON"));

        assertThat(DatasetsPage.matching(errors, "JSON"))
                .extracting(e -> e.get("line"))
                .containsExactly(7);
        assertThat(DatasetsPage.matching(errors, "Messages"))
                .extracting(e -> e.get("line"))
                .containsExactly(3);
        assertThat(DatasetsPage.matching(errors, " ")).hasSize(2);
        assertThat(DatasetsPage.matching(errors, "nothing")).isEmpty();
    }

    @Test
    void jobPagesLinkForwardWithTheServicesCursorAndBackThroughTheCursorsTheyCarry() {
        JobsPage.PageLinks first = JobsPage.PageLinks.of(null, List.of(), "job-100");
        assertThat(first).isEqualTo(new JobsPage.PageLinks(null, "/jobs?after=job-100"));

        JobsPage.PageLinks second = JobsPage.PageLinks.of("job-100", List.of(), "job-200");
        assertThat(second).isEqualTo(new JobsPage.PageLinks("/jobs", "/jobs?after=job-200&back=job-100"));

        JobsPage.PageLinks third = JobsPage.PageLinks.of("job-200", List.of("job-100"), "job-300");
        assertThat(third)
                .isEqualTo(new JobsPage.PageLinks("/jobs?after=job-100", "/jobs?after=job-300&back=job-100%2Cjob-200"));

        assertThat(JobsPage.PageLinks.of("job-300", List.of("job-100", "job-200"), null))
                .as("the last page: the service sent no next link")
                .isEqualTo(new JobsPage.PageLinks("/jobs?after=job-200&back=job-100", null));
    }

    @Test
    void theNextPagesCursorIsReadFromTheServicesLink() {
        var page = new dev.finetune.console.services.ServiceClient.Page(
                List.of(), java.net.URI.create("http://training:8082/api/jobs?limit=100&after=ftjob-0a%2Eb"));
        assertThat(page.nextParameter("after")).isEqualTo("ftjob-0a.b");
        assertThat(page.nextParameter("before")).isNull();
        assertThat(new dev.finetune.console.services.ServiceClient.Page(List.of(), null).nextParameter("after"))
                .isNull();
    }

    @Test
    void aMeanOfTokenCountsIsShownToOneDecimal() {
        assertThat(NumberFormats.oneDecimal(37.42857142857143)).isEqualTo("37.4");
        assertThat(NumberFormats.oneDecimal(12.96)).isEqualTo("13.0");
        assertThat(NumberFormats.oneDecimal(8)).isEqualTo("8.0");
    }

    @Test
    void anUploadRefusalIsShownNextToTheFieldTheDatasetServiceNames() {
        assertThat(DatasetsPage.uploadFieldOf(refusal(
                        "dataset name must be 1-128 characters of a-z, 0-9, '.', '_' or '-', got 'Bad Name'", null)))
                .isEqualTo("name");
        assertThat(DatasetsPage.uploadFieldOf(refusal("dataset version must be 1-128 characters, got 'v 1'", null)))
                .isEqualTo("version");
        assertThat(DatasetsPage.uploadFieldOf(refusal("DatasetFormat must be one of auto, chat, got 'csv'", null)))
                .isEqualTo("format");
        assertThat(DatasetsPage.uploadFieldOf(refusal("dataset 'notes' is empty", null)))
                .isEqualTo("file");
    }

    private static ServiceErrorException refusal(String detail, String field) {
        return new ServiceErrorException(Service.DATASET, 400, detail, field);
    }

    @Test
    void promotionTargetsCarryTheVersionEachAliasPointsAtAndOfferProductionWhenMissing() {
        List<Map<String, Object>> aliases =
                List.of(Map.of("alias", "staging", "version", 2), Map.of("alias", "old", "revision", 3));

        assertThat(RegistryPage.targets(aliases))
                .containsExactly(new RegistryPage.Target("production", 0), new RegistryPage.Target("staging", 2));
        assertThat(RegistryPage.targets(List.of(Map.of("alias", "production", "version", 4))))
                .containsExactly(new RegistryPage.Target("production", 4));
    }

    @Test
    void aPromotionTargetIsReadFromTheFormOrRefusedNamingWhatCame() {
        assertThat(RegistryPage.Target.parse("pre@prod@3")).isEqualTo(new RegistryPage.Target("pre@prod", 3));
        for (String bad : new String[] {null, "production", "@3", "production@x"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> RegistryPage.Target.parse(bad))
                    .hasMessageContaining("got '" + bad + "'");
        }
    }

    @Test
    void onlyAFileTheVersionListsCanBeDownloaded() {
        Map<String, Object> files = Map.of(
                "adapter_model.safetensors", Map.of("size", 10, "sha256", "ab"),
                "README.md", Map.of("size", 1, "sha256", "cd"));

        assertThat(RegistryPage.listedFile(files, "adapter_model.safetensors", "m", 1))
                .isEqualTo("adapter_model.safetensors");
        for (String bad : new String[] {"../README.md", "/etc/passwd", "merged/config.json", "readme.md", "", null}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> RegistryPage.listedFile(files, bad, "m", 1))
                    .isInstanceOf(UnknownFileException.class)
                    .hasMessage(
                            "version 1 of 'm' has no file '" + bad + "' (it has README.md, adapter_model.safetensors)");
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RegistryPage.listedFile(Map.of(), "README.md", "m", 2))
                .hasMessage("version 2 of 'm' has no file 'README.md'");
    }

    @Test
    void theAttachmentsNameIsTheFilesLastSegmentWithNothingThatCouldBreakTheHeader() {
        assertThat(RegistryPage.attachmentName("adapter_model.safetensors")).isEqualTo("adapter_model.safetensors");
        assertThat(RegistryPage.attachmentName("merged/model \"x\";.bin")).isEqualTo("model__x__.bin");
    }

    @Test
    void theServicesErrorGoesNextToTheFieldItNames() {
        List<String> fields = List.of("baseModel", "dataset", "learning_rate", "max_steps");
        Service training = Service.TRAINING;

        assertThat(NewJobPage.fieldOf(new ServiceErrorException(training, 400, "unknown model", "baseModel"), fields))
                .isEqualTo("baseModel");
        assertThat(NewJobPage.fieldOf(
                        new ServiceErrorException(training, 400, "must be > 0", "hyperparameters.learning_rate"),
                        fields))
                .isEqualTo("learning_rate");
        assertThat(NewJobPage.fieldOf(
                        new ServiceErrorException(training, 400, "max_steps must be >= 1, got 0", "hyperparameters"),
                        fields))
                .isEqualTo("max_steps");
        assertThat(NewJobPage.fieldOf(
                        new ServiceErrorException(training, 404, "no dataset x@1", "dataset.version"), fields))
                .isEqualTo("dataset");
        assertThat(NewJobPage.fieldOf(new ServiceErrorException(training, 409, "busy", null), fields))
                .isEqualTo("form");
    }

    @Test
    void theFormBecomesTheTrainingServicesJobRequest() {
        Map<String, Object> request = NewJobPage.request(Map.of(
                "baseModel",
                "tiny-chat",
                "dataset",
                "support@2",
                "method",
                "qlora",
                "objective",
                "sft",
                "learning_rate",
                "2e-4",
                "max_steps",
                "30",
                "num_train_epochs",
                ""));

        assertThat(request)
                .containsEntry("baseModel", "tiny-chat")
                .containsEntry("dataset", Map.of("name", "support", "version", "2"))
                .containsEntry("method", "qlora")
                .containsEntry("hyperparameters", Map.of("learning_rate", 2e-4, "max_steps", 30L));
    }

    @Test
    void aRunningJobsEtaCarriesItsPaceOverTheStepsLeft() {
        Instant now = Instant.parse("2026-01-01T00:10:00Z");
        Map<String, Object> job = Map.of(
                "id",
                "job-1",
                "state",
                "running",
                "method",
                "lora",
                "objective",
                "sft",
                "step",
                10,
                "totalSteps",
                40,
                "startedAt",
                "2026-01-01T00:00:00Z");

        JobRow row = JobRow.of(job, now);

        assertThat(row.eta()).isEqualTo("30 min 0 s");
        assertThat(row.percent()).isEqualTo(25);
        assertThat(JobRow.of(Map.of("state", "succeeded", "step", 40, "totalSteps", 40), now)
                        .eta())
                .isEmpty();
    }
}
