package org.dl4jsr.parallel;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.deeplearning4j.parallelism.trainer.DefaultTrainer;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/** DL4J's AVERAGING worker with an attached replica; averaging is the plugin's (see {@link Bf16TrainerContext}). */
final class AveragingTrainer extends DefaultTrainer {
    private final ReplicaHooks hooks;

    AveragingTrainer(Bf16TrainerContext context, String uuid, int threadId, Model model, ParallelWrapper wrapper,
                     WorkspaceMode workspaceMode, boolean useMDS, int averagingFrequency) {
        super();
        this.originalModel = model;
        this.replicatedModel = model;
        this.threadId = threadId;
        this.parallelWrapper = wrapper;
        this.workspaceMode = workspaceMode;
        this.useMDS = useMDS;
        this.uuid = uuid + "_thread_" + threadId;
        this.averagingFrequency = averagingFrequency;
        this.hooks = context.register(threadId, this::getModel);
        setName("Bf16 AveragingTrainer thread " + threadId);
        setDaemon(true);
    }

    @Override
    public void run() {
        hooks.run(super::run);
    }

    @Override
    protected void postInit() {
        super.postInit();
        hooks.built(replicatedModel);
    }

    @Override
    public void feedDataSet(DataSet dataSet, long etlTime) {
        hooks.fed();
        super.feedDataSet(dataSet, etlTime);
    }

    @Override
    public void feedMultiDataSet(MultiDataSet dataSet, long etlTime) {
        hooks.fed();
        super.feedMultiDataSet(dataSet, etlTime);
    }

    @Override
    public boolean averagingRequired() {
        return hooks.averagingRequired();
    }

    @Override
    public void shutdown() {
        hooks.shutdown(super::shutdown, originalModel);
    }
}
