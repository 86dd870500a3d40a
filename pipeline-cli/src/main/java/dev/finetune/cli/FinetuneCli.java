package dev.finetune.cli;

import dev.finetune.cli.datasets.DatasetCommand;
import dev.finetune.cli.dlq.DlqCommand;
import dev.finetune.cli.http.ApiException;
import dev.finetune.cli.jobs.JobCommand;
import dev.finetune.cli.models.ModelCommand;
import dev.finetune.cli.registry.RegistryCommand;
import dev.finetune.cli.run.RunCommand;
import dev.finetune.errors.InvalidInputException;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code finetune}: the pipeline for people. {@code run} is the whole pipeline on this machine; the
 * other commands talk to running services over their HTTP APIs.
 */
@Command(
        name = "finetune",
        mixinStandardHelpOptions = true,
        version = "finetune 0.1.0",
        header = "Datasets in, fine-tuned, evaluated and versioned adapters out.",
        subcommands = {
            RunCommand.class,
            DatasetCommand.class,
            JobCommand.class,
            ModelCommand.class,
            RegistryCommand.class,
            DlqCommand.class
        })
public final class FinetuneCli {

    public static void main(String[] args) {
        // The in-process broker and DJL's GPU probe warn about things that are expected here.
        System.setProperty("org.slf4j.simpleLogger.log.org.apache.kafka", "error");
        System.setProperty("org.slf4j.simpleLogger.log.kafka", "error");
        System.setProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda", "error");
        System.exit(commandLine().execute(args));
    }

    /** The command line with errors from the services printed as one clear line, not a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new FinetuneCli());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ApiException
                    || e instanceof UncheckedIOException
                    || e instanceof IllegalArgumentException
                    || e instanceof InvalidInputException
                    || e instanceof IllegalStateException) {
                commandLine.getErr().println("finetune: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cli;
    }
}
