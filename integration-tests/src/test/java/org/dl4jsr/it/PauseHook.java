package org.dl4jsr.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import org.apache.spark.TaskContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Holds a worker task still in the middle of a round so the test can kill its executor JVM there: the first attempt
 * of the task of {@code partition}, just before fitting the minibatch of {@code iteration} (its network has already
 * changed), writes its JVM's process id to {@code pidFile} and waits. Once per run: the file is written once.
 */
final class PauseHook implements TrainingHook {
    private static final long serialVersionUID = 1L;
    private static final long MAX_PAUSE_MILLIS = 120_000;
    private final int partition;
    private final int iteration;
    private final String pidFile;

    PauseHook(int partition, int iteration, Path pidFile) {
        this.partition = partition;
        this.iteration = iteration;
        this.pidFile = pidFile.toAbsolutePath().toString();
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {
        TaskContext task = TaskContext.get();
        Path pid = Paths.get(pidFile);
        if (task == null || task.attemptNumber() != 0 || task.partitionId() != partition
                || ((MultiLayerNetwork) model).getIterationCount() != iteration || Files.exists(pid)) {
            return;
        }
        try {
            Path tmp = Paths.get(pidFile + ".tmp");
            Files.write(tmp, String.valueOf(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII));
            Files.move(tmp, pid, StandardCopyOption.ATOMIC_MOVE); // the test never reads a half-written id
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        StandaloneCluster.sleep(MAX_PAUSE_MILLIS);
        throw new IllegalStateException("PauseHook: nobody killed executor " + ProcessHandle.current().pid()
                + " within " + MAX_PAUSE_MILLIS + " ms");
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
}
