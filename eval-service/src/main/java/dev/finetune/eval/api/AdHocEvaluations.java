package dev.finetune.eval.api;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.errors.ResourceNotFoundException;
import dev.finetune.eval.EvalSettings;
import dev.finetune.eval.gates.Gates;
import dev.finetune.eval.messaging.Evaluations;
import dev.finetune.eval.run.EvaluationRequest;
import dev.finetune.storage.ObjectStore;
import io.opentelemetry.context.Context;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * Runs evaluations requested over HTTP on a single worker thread this bean owns (one model in
 * memory at a time), in the request's trace. A marker under {@code evaluations/adhoc/<id>/} says
 * the evaluation was accepted, so its status reads "running" until the report is there.
 */
@ApplicationScoped
public class AdHocEvaluations {
    static final String ID_PREFIX = "eval-";
    private static final Logger LOG = Logger.getLogger(AdHocEvaluations.class);

    private final Evaluations evaluations;
    private final ObjectStore store;
    private final Gates configured;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "adhoc-evaluation"));

    AdHocEvaluations(Evaluations evaluations, ObjectStore store, EvalSettings settings) {
        this.evaluations = evaluations;
        this.store = store;
        this.configured = Gates.of(settings.gates());
    }

    static String reportKey(String id) {
        return "evaluations/adhoc/" + id + "/" + EvaluationRequest.REPORT_FILE;
    }

    private static String acceptedKey(String id) {
        return "evaluations/adhoc/" + id + "/accepted";
    }

    /**
     * Validates and queues the request. A checkpoint prefix with nothing under it is refused here
     * (404 naming it), before anything is stored or published: an evaluation that can only fail is
     * not started.
     */
    public EvaluationRequest submit(EvaluateRequest r) {
        if (r == null || r.dataset() == null) {
            throw new InvalidInputException("dataset", "dataset: required, e.g. {\"name\":\"qa\",\"version\":\"1\"}");
        }
        String id = ID_PREFIX + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        String prefix = r.checkpointPrefix() == null || r.checkpointPrefix().endsWith("/")
                ? r.checkpointPrefix()
                : r.checkpointPrefix() + "/";
        EvaluationRequest request = new EvaluationRequest(
                id,
                null,
                0,
                prefix,
                r.baseModel(),
                r.dataset().name(),
                r.dataset().version(),
                r.method(),
                null,
                r.gates() != null ? r.gates().toGates() : configured,
                reportKey(id),
                null);
        if (store.list(prefix).isEmpty()) { // the request has checked that prefix is one
            throw new ResourceNotFoundException("checkpointPrefix: no checkpoint at '" + prefix
                    + "' (nothing is stored under it); name a checkpoint (checkpoints/<job>/step-<n>/) or a"
                    + " registry version that exists");
        }
        store.putBytes(acceptedKey(id), id.getBytes(StandardCharsets.UTF_8), "text/plain");
        Context trace = Context.current();
        worker.execute(() -> {
            try {
                evaluations.evaluateOnce(request, trace);
            } catch (RuntimeException e) {
                LOG.errorf(e, "evaluation %s could not be completed", id);
            }
        });
        return request;
    }

    public boolean isPending(String id) {
        return id.startsWith(ID_PREFIX) && store.exists(acceptedKey(id));
    }

    @PreDestroy
    void stop() {
        worker.shutdownNow();
    }
}
