package dev.finetune.eval.messaging;

import dev.finetune.errors.Failures;
import dev.finetune.eval.run.EvaluationFailure;
import dev.finetune.eval.run.EvaluationPhases;
import dev.finetune.eval.run.EvaluationReport;
import dev.finetune.eval.run.EvaluationRequest;
import dev.finetune.eval.run.EvaluationRunner;
import dev.finetune.eval.run.ReportStore;
import io.opentelemetry.context.Context;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Runs an evaluation at most once and announces its result. The report is written after the
 * evaluation, and its existence means "done": a repeated request publishes the stored result again
 * (same CloudEvents id) instead of evaluating again, which also covers a crash between writing the
 * report and publishing. An evaluation that cannot succeed (bad checkpoint, missing data) is stored
 * and published with status error and the reason; a transient store or broker failure propagates,
 * to be retried.
 */
@ApplicationScoped
public class Evaluations {
    private static final Logger LOG = Logger.getLogger(Evaluations.class);

    private final EvaluationRunner runner;
    private final ReportStore reports;
    private final EvaluationEvents events;
    private final EvaluationPhases phases;
    private final EvaluationMetrics metrics;

    Evaluations(
            EvaluationRunner runner,
            ReportStore reports,
            EvaluationEvents events,
            EvaluationPhases phases,
            EvaluationMetrics metrics) {
        this.runner = runner;
        this.reports = reports;
        this.events = events;
        this.phases = phases;
        this.metrics = metrics;
    }

    /**
     * Evaluates (or re-publishes) under one span, {@code eval.evaluation}, a child of {@code trace}
     * and the parent of every phase's span.
     */
    public EvaluationReport evaluateOnce(EvaluationRequest request, Context trace) {
        return phases.run(trace, "evaluation", request.evaluationId(), () -> evaluateOnceTraced(request));
    }

    private EvaluationReport evaluateOnceTraced(EvaluationRequest request) {
        Optional<EvaluationReport> stored = reports.get(request.reportKey());
        if (stored.isPresent()) {
            LOG.infof(
                    "evaluation %s is done already (%s): re-publishing its result",
                    request.evaluationId(), stored.get().status().code());
            events.completed(stored.get());
            return stored.get();
        }
        EvaluationReport report;
        long started = System.nanoTime();
        try {
            report = runner.run(request);
        } catch (RuntimeException e) {
            if (Failures.isRetriable(e)) {
                throw e; // the store or broker blinked: the caller retries; bad input falls through to a failed report
            }
            LOG.errorf(e, "evaluation %s failed", request.evaluationId());
            report = EvaluationReport.failed(request, runner.limits(), reason(e));
        }
        long ran = System.nanoTime() - started;
        EvaluationReport done = report;
        phases.run("publish", request.evaluationId(), () -> {
            reports.put(done);
            metrics.evaluated(ran, done.status()); // once stored, i.e. once: a stored report is not run again
            events.completed(done);
        });
        LOG.infof("evaluation %s: %s %s", done.evaluationId(), done.status().code(), done.metrics());
        return done;
    }

    static String reason(Throwable e) {
        String message = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
        return e instanceof EvaluationFailure ? message : e.getClass().getSimpleName() + ": " + message;
    }
}
