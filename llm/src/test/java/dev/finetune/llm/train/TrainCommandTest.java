package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code train --config} runs an example job as it is shipped, and reports bad input by name. */
class TrainCommandTest {
    @TempDir
    Path dir;

    /** What one run printed. */
    private record Run(int exitCode, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine command = new CommandLine(new TrainCommand());
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        int code = command.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** The example job file copied with its data next to a tiny model at the path it names. */
    private Path example(String name, String data) throws IOException {
        Path jobs = dir.resolve("examples");
        Files.createDirectories(jobs.resolve("data"));
        Files.copy(ExampleDatasets.EXAMPLES.resolve(name), jobs.resolve(name));
        Files.copy(ExampleDatasets.EXAMPLES.resolve(data), jobs.resolve(data));
        TinyJob.model(jobs.resolve("models/tiny-llama"), 1);
        return jobs.resolve(name);
    }

    @Test
    void theDpoExampleTrainsShowsProgressAndWritesAPeftAdapter() throws IOException {
        Path job = example("lora-dpo.yaml", ExampleDatasets.DPO_FILE);

        Run run = run("--config", job.toString(), "--max-steps", "2");

        assertThat(run.exitCode()).as(run.err()).isZero();
        Path output = dir.resolve("examples/runs/lora-dpo");
        assertThat(run.out())
                .contains("lora dpo of")
                .contains("trained 2 of 2 steps")
                .contains("adapter: " + output.resolve("final"));
        assertThat(run.err())
                .contains("training    [########################] 100%  2/2  epoch")
                .contains("acc ")
                .contains("margin ")
                .contains("saved " + output.resolve("checkpoint-2"));
        assertThat(output.resolve("final/adapter_config.json")).isRegularFile();
        assertThat(output.resolve("final/adapter_model.safetensors")).isRegularFile();

        Run again = run("--config", job.toString(), "--max-steps", "2", "--no-progress");
        assertThat(again.exitCode()).isZero();
        assertThat(again.out()).contains("trained 2 of 2 steps (resumed at 2)");
        assertThat(again.err()).doesNotContain("[####");
    }

    @Test
    void theRewardExampleTrainsARewardModelAndWritesASeqClsAdapter() throws IOException {
        Path job = example("lora-reward.yaml", ExampleDatasets.DPO_FILE);

        Run run = run("--config", job.toString(), "--max-steps", "2");

        assertThat(run.exitCode()).as(run.err()).isZero();
        Path output = dir.resolve("examples/runs/lora-reward");
        assertThat(run.out()).contains("lora reward of").contains("trained 2 of 2 steps");
        assertThat(run.err()).contains("acc ").contains("margin ");
        assertThat(Files.readString(output.resolve("final/adapter_config.json")))
                .contains("\"task_type\": \"SEQ_CLS\"");
    }

    @Test
    void theFullSftExampleWritesAWholeModel() throws IOException {
        Path job = example("full-sft.yaml", ExampleDatasets.SFT_FILE);

        Run run = run(
                "--config",
                job.toString(),
                "--set",
                "max_steps=1",
                "--output-dir",
                dir.resolve("out").toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("model: " + dir.resolve("out/final"));
        assertThat(dir.resolve("out/final/model.safetensors")).isRegularFile();
        assertThat(dir.resolve("out/final/tokenizer.json")).isRegularFile();
    }

    /** The continued-training example starts from the lora-sft example's adapter, whose config decides the rank. */
    @Test
    void theContinuedExampleTrainsFromTheLoraSftExamplesAdapter() throws IOException {
        Path first = example("lora-sft.yaml", ExampleDatasets.SFT_FILE);
        Files.copy(
                ExampleDatasets.EXAMPLES.resolve("lora-sft-continued.yaml"),
                first.resolveSibling("lora-sft-continued.yaml"));
        Run parent = run("--config", first.toString(), "--set", "lora_r=4", "--max-steps", "1", "--no-progress");
        assertThat(parent.exitCode()).as(parent.err()).isZero();

        Path continued = first.resolveSibling("lora-sft-continued.yaml");
        Run run = run("--config", continued.toString(), "--max-steps", "1", "--no-progress");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out())
                .contains("trained 1 of 1 steps")
                .contains("adapter: " + dir.resolve("examples/runs/lora-sft-continued/final"));
        assertThat(Files.readString(dir.resolve("examples/runs/lora-sft-continued/final/adapter_config.json")))
                .contains("\"r\": 4");

        Run conflicting = run("--config", continued.toString(), "--set", "lora_r=16", "--max-steps", "1");
        assertThat(conflicting.exitCode()).isEqualTo(2);
        assertThat(conflicting.err())
                .contains("lora_r 16 disagrees with init_adapter's "
                        + dir.resolve("examples/runs/lora-sft/final/adapter_config.json") + ", whose r is 4");
    }

    @Test
    void badJobsAndDataAreReportedByNameWithTheUsageExitCode() throws IOException {
        Path job = example("lora-dpo.yaml", ExampleDatasets.DPO_FILE);
        Files.writeString(job, Files.readString(job).replace("beta: 0.1", "beta: -0.1"));
        Run badValue = run("--config", job.toString());
        assertThat(badValue.exitCode()).isEqualTo(2);
        assertThat(badValue.err()).contains("lora-dpo.yaml: beta must be > 0 and <= 1000, got -0.1");
        Files.writeString(job, Files.readString(job).replace("beta: -0.1", "beta: 0.1"));
        Run badOverride = run("--config", job.toString(), "--set", "learningrate=1");
        assertThat(badOverride.exitCode()).isEqualTo(2);
        assertThat(badOverride.err()).contains("learningrate is not a known setting; did you mean learning_rate?");
        Files.writeString(job, Files.readString(job).replace("beta: 0.1", "beta: -0.1"));

        Files.writeString(job, Files.readString(job).replace("beta: -0.1", "beta: 0.1"));
        Path data = dir.resolve("examples").resolve(ExampleDatasets.DPO_FILE);
        Files.writeString(data, Files.readString(data) + "{\"prompt\": \"hi\", \"chosen\": 3, \"rejected\": \"no\"}\n");
        Run badData = run("--config", job.toString());
        assertThat(badData.exitCode()).isEqualTo(2);
        assertThat(badData.err()).contains("case-dpo.jsonl:33: 'chosen' must be a non-empty list of messages");
    }
}
