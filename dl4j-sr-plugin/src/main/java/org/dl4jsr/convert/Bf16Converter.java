package org.dl4jsr.convert;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.Trainable;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.dl4jsr.AdamWSR;
import org.dl4jsr.Bf16Attachment;
import org.dl4jsr.Bf16Rounded;
import org.dl4jsr.Bf16Training;
import org.dl4jsr.Fp32Activation;
import org.dl4jsr.kernel.Kernels;
import org.dl4jsr.network.FrozenParameters;
import org.dl4jsr.network.Network;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.NoOpUpdater;

/**
 * How a network enters and leaves BF16 training. Each conversion builds a new network (the source is not modified)
 * with the parameters, the optimizer state and the iteration and epoch counts carried over:
 * <ul>
 * <li>{@link #toBf16Grid}: a FLOAT network with every trainable weight on the BF16 grid (the CPU default), DL4J's
 * {@code Adam} replaced by {@link AdamWSR} (its FP32 moments rounded into AdamWSR's storage), other updaters wrapped
 * in {@link Bf16Rounded}; attached and ready to {@code fit}.</li>
 * <li>{@link #toBfloat16}: the same as a true BFLOAT16 network; activations ND4J cannot back-propagate in BF16 are
 * computed in FP32 ({@link Fp32Activation}).</li>
 * <li>{@link #toFp32}: a plain DL4J FLOAT network (exact: BF16 values widen exactly; an FP32 master copy becomes the
 * weights), AdamWSR back to DL4J's Adam plus decoupled {@code WeightDecay}; loadable by DL4J without the plugin.</li>
 * </ul>
 * Frozen layers, NoOp updaters and batch-norm statistics are left alone; {@link ConversionReport} lists them.
 *
 * <p>One conversion has three parts that must agree on the same block layout, done in this order: the configuration
 * rewrite ({@link ConfigurationRewriter}), the parameters ({@link ParameterConverter}) and the optimizer state
 * ({@link OptimizerStateCarrier}).
 */
public final class Bf16Converter {
    private Bf16Converter() {
    }

    public static <T extends Model> ConversionResult<T> toBf16Grid(T network) {
        return toBf16Grid(network, ConversionOptions.defaults());
    }

    public static <T extends Model> ConversionResult<T> toBf16Grid(T network, ConversionOptions options) {
        return convert(network, ConversionTarget.BF16_GRID, options);
    }

    public static <T extends Model> ConversionResult<T> toBfloat16(T network) {
        return toBfloat16(network, ConversionOptions.defaults());
    }

    public static <T extends Model> ConversionResult<T> toBfloat16(T network, ConversionOptions options) {
        return convert(network, ConversionTarget.BFLOAT16, options);
    }

    public static <T extends Model> ConversionResult<T> toFp32(T network) {
        return convert(network, ConversionTarget.FP32, ConversionOptions.defaults());
    }

    @SuppressWarnings("unchecked")
    private static <T extends Model> ConversionResult<T> convert(T source, ConversionTarget target,
                                                                 ConversionOptions o) {
        Network from = Network.of(source);
        from.initialise();
        ConversionReport report = new ConversionReport();
        Network to = from.copyConfiguration();
        to.setCounts(from.iterationCount(), from.epochCount());
        to.setDataType(target == ConversionTarget.BFLOAT16 ? DataType.BFLOAT16 : DataType.FLOAT);
        ConfigurationRewriter.rewrite(to, target, o, report);
        Kernels kernels = o.getAttach().getKernels().select(o.getAttach().getThreads());
        INDArray params = ParameterConverter.convert(from.params(), target, o.getInitialRounding(), o.getSeed(),
                kernels, to.iterationCount());
        to.init(params, true);
        to.initialise();
        OptimizerStateCarrier.carry(from, to, o.getSeed(), kernels, to.iterationCount());
        reportLeftAlone(to.updater(), report);
        Bf16Attachment attachment = target == ConversionTarget.FP32 ? null : Bf16Training.attachModel(to.model(),
                o.getAttach().toBuilder().initialRounding(o.getInitialRounding()).build());
        return new ConversionResult<>((T) to.model(), report, attachment);
    }

    /** Reports the parameters the plugin will not train: frozen layers, NoOp updaters, batch-norm statistics. */
    private static void reportLeftAlone(BaseMultiLayerUpdater<?> updater, ConversionReport report) {
        for (Object b : updater.getUpdaterBlocks()) {
            UpdaterBlock ub = (UpdaterBlock) b;
            if (!(ub.getGradientUpdater() instanceof NoOpUpdater)) {
                for (String frozen : FrozenParameters.frozenNames(ub)) {
                    report.leftAlone(frozen, "frozen layer (FrozenLayerWithBackprop: DL4J gives it its inner layer's"
                            + " updater; the plugin never rounds or updates it)");
                }
                continue;
            }
            for (Object p : ub.getLayersAndVariablesInBlock()) {
                UpdaterBlock.ParamState ps = (UpdaterBlock.ParamState) p;
                Trainable layer = ps.getLayer();
                String why = layer instanceof org.deeplearning4j.nn.layers.FrozenLayer
                        || layer instanceof org.deeplearning4j.nn.layers.FrozenLayerWithBackprop ? "frozen layer"
                        : layer.getConfig() instanceof BatchNormalization ? "batch-norm statistics (DL4J updates them)"
                        : "NoOp updater";
                report.leftAlone(layer.getConfig().getLayerName() + "/" + ps.getParamName(), why);
            }
        }
    }
}
