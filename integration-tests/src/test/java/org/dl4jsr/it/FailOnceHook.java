package org.dl4jsr.it;

import org.apache.spark.TaskContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Injects one worker failure: the first attempt of the task of {@code partition} throws just before fitting the
 * minibatch of {@code iteration} (so its network has already changed). Spark's retry (attempt 1) runs normally.
 */
final class FailOnceHook implements TrainingHook {
    static final String MESSAGE = "Injected worker failure";
    private static final long serialVersionUID = 1L;
    private final int partition;
    private final int iteration;

    FailOnceHook(int partition, int iteration) {
        this.partition = partition;
        this.iteration = iteration;
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {
        TaskContext task = TaskContext.get();
        if (task != null && task.attemptNumber() == 0 && task.partitionId() == partition
                && ((MultiLayerNetwork) model).getIterationCount() == iteration) {
            throw new IllegalStateException(MESSAGE + " (partition " + partition + ", iteration " + iteration + ")");
        }
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {
    }

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {
    }

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
    }

    /** Counts failed tasks whose failure is the injected one (on the driver, from Spark's events). */
    static final class Failures extends SparkListener {
        private int count;

        @Override
        public synchronized void onTaskEnd(SparkListenerTaskEnd event) {
            if (String.valueOf(event.reason()).contains(MESSAGE)) {
                count++;
            }
        }

        synchronized int count() {
            return count;
        }
    }
}
