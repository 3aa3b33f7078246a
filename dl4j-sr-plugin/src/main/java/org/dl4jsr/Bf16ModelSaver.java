package org.dl4jsr;

import java.io.IOException;
import org.deeplearning4j.earlystopping.EarlyStoppingModelSaver;
import org.deeplearning4j.earlystopping.saver.InMemoryModelSaver;
import org.deeplearning4j.nn.api.Model;

/**
 * An {@link EarlyStoppingModelSaver} for attached networks. DL4J's savers keep a copy of the network
 * ({@code net.clone()}, or a file read back by ModelSerializer): a new network, not attached, which would refuse to
 * {@code fit}. This saver hands out the best and latest models attached, with the options the trained network was
 * attached with (the defaults if it was not). Their weights are not changed by that attach: they are on the grid
 * already.
 *
 * <pre>{@code
 * new EarlyStoppingConfiguration.Builder<MultiLayerNetwork>()
 *         .modelSaver(new Bf16ModelSaver<>())                            // was: new InMemoryModelSaver<>()
 *         // or new Bf16ModelSaver<>(new LocalFileModelSaver(dir))
 * }</pre>
 */
public final class Bf16ModelSaver<T extends Model> implements EarlyStoppingModelSaver<T> {
    private static final long serialVersionUID = 1L;
    private final EarlyStoppingModelSaver<T> saver;
    private transient Bf16Options options;

    /** Keeps the models in memory, like DL4J's {@link InMemoryModelSaver}. */
    public Bf16ModelSaver() {
        this(new InMemoryModelSaver<>());
    }

    /** Keeps the models with {@code saver} (e.g. DL4J's LocalFileModelSaver or LocalFileGraphSaver). */
    public Bf16ModelSaver(EarlyStoppingModelSaver<T> saver) {
        if (saver == null) {
            throw new IllegalArgumentException("Bf16ModelSaver: the saver must not be null (use new Bf16ModelSaver<>()"
                    + " to keep the models in memory)");
        }
        this.saver = saver;
    }

    @Override
    public void saveBestModel(T net, double score) throws IOException {
        remember(net);
        saver.saveBestModel(net, score);
    }

    @Override
    public void saveLatestModel(T net, double score) throws IOException {
        remember(net);
        saver.saveLatestModel(net, score);
    }

    @Override
    public T getBestModel() throws IOException {
        return attached(saver.getBestModel());
    }

    @Override
    public T getLatestModel() throws IOException {
        return attached(saver.getLatestModel());
    }

    private void remember(T net) {
        Bf16Attachment a = Bf16Attachment.installedOn(net);
        if (a != null) {
            options = a.getOptions();
        }
    }

    private T attached(T model) {
        if (model != null && Bf16Attachment.installedOn(model) == null) {
            Bf16Training.attachModel(model, options != null ? options : Bf16Options.defaults());
        }
        return model;
    }
}
