package dev.finetune.cli.http;

import java.net.URI;

/** The four pipeline services, each behind its HTTP API. */
public record Services(ServiceClient datasets, ServiceClient training, ServiceClient eval, ServiceClient registry) {

    public static Services at(URI datasets, URI training, URI eval, URI registry, String apiKey) {
        return new Services(
                new ServiceClient("dataset-service", slash(datasets), apiKey),
                new ServiceClient("training-service", slash(training), apiKey),
                new ServiceClient("eval-service", slash(eval), apiKey),
                new ServiceClient("registry-service", slash(registry), apiKey));
    }

    /** Relative paths resolve below the base only when it ends with a slash. */
    private static URI slash(URI uri) {
        String s = uri.toString();
        return s.endsWith("/") ? uri : URI.create(s + "/");
    }
}
