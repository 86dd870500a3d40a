package dev.finetune.cli.http;

import java.io.PrintWriter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command group that calls the services: their addresses and API key, and where to print. */
public abstract class ApiCommand {
    @Mixin
    private ServiceOptions serviceOptions;

    @Spec
    private CommandSpec spec;

    protected Services services() {
        return serviceOptions.services();
    }

    protected PrintWriter out() {
        return spec.commandLine().getOut();
    }
}
