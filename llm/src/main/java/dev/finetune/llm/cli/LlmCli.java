package dev.finetune.llm.cli;

import dev.finetune.llm.bench.InferenceBenchmark;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.tokenizer.ChatTemplateException;
import dev.finetune.llm.tokenizer.TokenizerException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code llm} command line: create tiny models, generate text, score tokens, benchmark.
 *
 * <p>Exit codes: 0 success; 2 a bad flag, value or input file (the message names it); 1 an
 * unexpected failure (with its stack trace). All output goes through picocli's out/err writers, so
 * tests run commands in-process and capture both.
 */
@Command(
        name = "llm",
        mixinStandardHelpOptions = true,
        version = "llm 0.1.0",
        description = "Decoder-only LLMs on DJL: tiny models, generation, scoring, benchmarks.",
        subcommands = {
            InitTinyCommand.class,
            GenerateCommand.class,
            ScoreCommand.class,
            dev.finetune.llm.train.TrainCommand.class,
            dev.finetune.llm.settings.SettingsCommand.class,
            InferenceBenchmark.class,
            dev.finetune.llm.bench.TrainingBenchmark.class,
            dev.finetune.llm.bench.PrecisionBenchmark.class,
            dev.finetune.llm.bench.RlBenchmark.class
        })
public final class LlmCli {
    /** Exit code of a usage error: picocli's own for bad flags, and ours for bad values and files. */
    public static final int USAGE = CommandLine.ExitCode.USAGE;

    public static void main(String[] args) {
        // The native library ships in pytorch-native-cpu: nothing may be downloaded.
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        // Engine start-up chatter would mix with the command's output on the terminal.
        System.setProperty(
                "org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        // A CPU-only machine gets "Failed to detect GPU count" warnings on every start; it is not a problem.
        System.setProperty(
                "org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils",
                System.getProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error"));
        CommandLine cli = commandLine();
        // Java 17 encodes System.out in the locale's charset (often ASCII): generated text is UTF-8.
        cli.setOut(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true));
        cli.setErr(new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true));
        System.exit(cli.execute(args));
    }

    /** The command tree with this CLI's error handling; set out/err on it before {@code execute}. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new LlmCli());
        cli.setParameterExceptionHandler(LlmCli::reportUsageError);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> reportFailure(e, commandLine));
        return cli;
    }

    /** A bad flag or value: one line naming it, then where to find the usage. No usage dump. */
    private static int reportUsageError(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        err.println(qualifiedName(command) + ": " + e.getMessage());
        UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Run '" + qualifiedName(command) + " --help' for usage.");
        err.flush();
        return USAGE;
    }

    /**
     * Bad input files (a checkpoint, tokenizer or chat template that cannot be used) are the user's
     * to fix: their messages already name the file and field, so they are printed alone. Anything
     * else is a defect and keeps picocli's default: the stack trace and exit code 1.
     */
    private static int reportFailure(Exception e, CommandLine command) throws Exception {
        if (e instanceof CheckpointException
                || e instanceof TokenizerException
                || e instanceof ChatTemplateException
                || e instanceof InputException) {
            command.getErr().println(qualifiedName(command) + ": " + e.getMessage());
            command.getErr().flush();
            return USAGE;
        }
        throw e;
    }

    private static String qualifiedName(CommandLine command) {
        return command.getCommandSpec().qualifiedName();
    }
}
