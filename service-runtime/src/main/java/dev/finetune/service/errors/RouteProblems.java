package dev.finetune.service.errors;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * A path that no endpoint serves is answered below the REST layer; this makes that 404 problem
 * details too. (The 413 of a body over {@code quarkus.http.limits.max-body-size} is answered by
 * the HTTP server before any route sees the request, with no body.)
 */
@ApplicationScoped
public class RouteProblems {
    private final ObjectMapper json;

    RouteProblems(ObjectMapper json) {
        this.json = json;
    }

    void install(@Observes Router router) {
        router.errorHandler(
                404, ctx -> answer(ctx, Problem.of(ProblemType.NOT_FOUND, "nothing is served at this path")));
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
