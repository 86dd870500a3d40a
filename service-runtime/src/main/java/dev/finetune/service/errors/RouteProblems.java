package dev.finetune.service.errors;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Answers given below the REST layer, as problem details too: a path that no endpoint serves (404),
 * and a body over {@code quarkus.http.limits.max-body-size} (413), whether its {@code
 * Content-Length} says so up front or a chunked body runs past the limit.
 */
@ApplicationScoped
public class RouteProblems {
    /**
     * Quarkus refuses a declared length over the limit at route order -2, with an empty body; this
     * check runs just before it, with the same rule, and says what the limit is.
     */
    private static final int BEFORE_QUARKUS_BODY_LIMIT = -3;

    private final ObjectMapper json;
    private final Optional<MemorySize> maxBodySize;

    RouteProblems(
            ObjectMapper json,
            @ConfigProperty(name = "quarkus.http.limits.max-body-size") Optional<MemorySize> maxBodySize) {
        this.json = json;
        this.maxBodySize = maxBodySize;
    }

    void install(@Observes Router router) {
        router.errorHandler(
                404, ctx -> answer(ctx, Problem.of(ProblemType.NOT_FOUND, "nothing is served at this path")));
        maxBodySize.map(MemorySize::asLongValue).ifPresent(limit -> {
            router.errorHandler(413, ctx -> answer(ctx, tooLarge(limit)));
            router.route().order(BEFORE_QUARKUS_BODY_LIMIT).handler(ctx -> refuseDeclaredOverLimit(ctx, limit));
        });
    }

    private void refuseDeclaredOverLimit(RoutingContext ctx, long limit) {
        String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length == null || parse(length) <= limit) {
            ctx.next();
            return;
        }
        // As Quarkus does: the unread body is not drained, so the connection closes after the answer.
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
        ctx.response().endHandler(done -> ctx.request().connection().close());
        answer(ctx, tooLarge(limit));
    }

    private static Problem tooLarge(long limit) {
        return Problem.of(
                ProblemType.PAYLOAD_TOO_LARGE,
                "the request body is larger than this service accepts: at most " + limit
                        + " bytes (quarkus.http.limits.max-body-size)");
    }

    private static long parse(String contentLength) {
        try {
            return Long.parseLong(contentLength.trim());
        } catch (NumberFormatException e) {
            return -1; // not a length: the HTTP codec refuses it
        }
    }

    private void answer(RoutingContext ctx, Problem problem) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.headWritten()) {
            return;
        }
        response.setStatusCode(problem.status())
                .putHeader("Content-Type", Problem.MEDIA_TYPE)
                .end(problem.instance(ctx.request().path()).toJson(json));
    }
}
