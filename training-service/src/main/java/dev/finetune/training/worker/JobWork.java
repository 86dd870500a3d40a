package dev.finetune.training.worker;

import dev.finetune.service.tracing.WorkContext;
import dev.finetune.training.job.JobRecord;

/** The work context of a job: what its log lines and spans carry while a worker runs it. */
final class JobWork {
    private JobWork() {}

    static WorkContext open(JobRecord job) {
        return WorkContext.builder()
                .job(job.id())
                .dataset(job.datasetName(), job.datasetVersion())
                .baseModel(job.baseModel())
                .method(
                        job.method() == null ? null : job.method().code(),
                        job.objective() == null ? null : job.objective().code())
                .open();
    }
}
