package dev.finetune.localstack;

/**
 * One {@link LocalStack} per JVM for tests: every test class of a module shares the same broker and
 * S3 server (starting one costs seconds and ~300 MB). It stops when the JVM exits.
 */
public final class SharedLocalStack {
    private static LocalStack instance;

    private SharedLocalStack() {}

    public static synchronized LocalStack get() {
        if (instance == null) {
            LocalStack stack = LocalStack.start(LocalStack.Options.ephemeral());
            Runtime.getRuntime().addShutdownHook(new Thread(stack::close, "local-stack-shutdown"));
            instance = stack;
        }
        return instance;
    }
}
