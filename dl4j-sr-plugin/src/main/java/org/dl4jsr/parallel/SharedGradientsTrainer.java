package org.dl4jsr.parallel;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.deeplearning4j.parallelism.trainer.SymmetricTrainer;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/** DL4J's SHARED_GRADIENTS worker (threshold-encoded updates through the accumulator) with an attached replica. */
final class SharedGradientsTrainer extends SymmetricTrainer {
    private final ReplicaHooks hooks;

    SharedGradientsTrainer(Bf16TrainerContext context, String uuid, int threadId, Model model, ParallelWrapper wrapper,
                           WorkspaceMode workspaceMode, boolean useMDS) {
        super(model, uuid, threadId, workspaceMode, wrapper, useMDS);
        this.hooks = context.register(threadId, this::getModel);
        setName("Bf16 SharedGradientsTrainer thread " + threadId);
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
