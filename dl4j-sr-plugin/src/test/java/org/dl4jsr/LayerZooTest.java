package org.dl4jsr;

import org.dl4jsr.testing.TestNets;
import org.dl4jsr.convert.Bf16Converter;
import org.dl4jsr.convert.ConversionResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Supplier;
import java.util.stream.Stream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Every common layer type converts FP32 -> BF16 grid / BFLOAT16 -> FP32 and trains in both BF16 modes with finite
 * loss. Standard configurations (ReLU, tanh, LSTM gates) on purpose: the converter must make them trainable in BF16.
 */
class LayerZooTest {

    private static NeuralNetConfiguration.Builder base() {
        return new NeuralNetConfiguration.Builder().seed(12).updater(new Adam(0.01)).dataType(DataType.FLOAT);
    }

    private static DataSet classification(long[] featureShape, int classes, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray features = Nd4j.rand(DataType.FLOAT, featureShape);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, featureShape[0], classes);
        for (int i = 0; i < featureShape[0]; i++) {
            labels.putScalar(i, i % classes, 1f);
        }
        return new DataSet(features, labels);
    }

    private static DataSet sequence(int batch, int length, int vocab, int classes, boolean indices) {
        Nd4j.getRandom().setSeed(7);
        INDArray features = indices
                ? Nd4j.rand(DataType.FLOAT, batch, length).muli(vocab - 1).castTo(DataType.INT32).castTo(DataType.FLOAT)
                : Nd4j.rand(DataType.FLOAT, batch, vocab, length);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, batch, classes, length);
        for (int i = 0; i < batch; i++) {
            for (int t = 0; t < length; t++) {
                labels.putScalar(new int[] {i, (i + t) % classes, t}, 1f);
            }
        }
        return new DataSet(features, labels);
    }

    private static MultiLayerNetwork mln(MultiLayerConfiguration conf) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    static Stream<Arguments> zoo() {
        Supplier<Model> denseDropoutBatchNorm = () -> mln(base().list()
                .layer(new DenseLayer.Builder().nIn(6).nOut(16).activation(Activation.RELU).build())
                .layer(new DropoutLayer.Builder(0.8).build())
                .layer(new BatchNormalization.Builder().nOut(16).build())
                .layer(new DenseLayer.Builder().nOut(16).activation(Activation.LEAKYRELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.feedForward(6)).build());
        Supplier<Model> conv2d = () -> mln(base().list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new DenseLayer.Builder().nOut(8).activation(Activation.SIGMOID).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.convolutional(8, 8, 1)).build());
        Supplier<Model> conv1dRnn = () -> mln(base().list()
                .layer(new Convolution1DLayer.Builder(3).nOut(6).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.ELU).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.recurrent(5, 10)).build());
        Supplier<Model> embeddingLstmAttention = () -> mln(base().list()
                .layer(new EmbeddingSequenceLayer.Builder().nIn(50).nOut(8).build())
                .layer(new LSTM.Builder().nIn(8).nOut(8).activation(Activation.TANH).build())
                .layer(new SelfAttentionLayer.Builder().nIn(8).nOut(8).nHeads(2).projectInput(true).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.recurrent(50, 6)).build()); // sets the RNN data formats (size = vocabulary)
        Supplier<Model> embedding = () -> mln(base().list()
                .layer(new EmbeddingLayer.Builder().nIn(20).nOut(8).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        Supplier<Model> graph = () -> {
            ComputationGraphConfiguration conf = base().graphBuilder().addInputs("in")
                    .addLayer("a", new DenseLayer.Builder().nIn(6).nOut(8).activation(Activation.RELU).build(), "in")
                    .addLayer("b", new DenseLayer.Builder().nIn(6).nOut(8).activation(Activation.TANH).build(), "in")
                    .addLayer("c", new DenseLayer.Builder().nIn(6).nOut(16).activation(Activation.IDENTITY).build(), "in")
                    .addVertex("merge", new MergeVertex(), "a", "b")
                    .addVertex("sum", new ElementWiseVertex(ElementWiseVertex.Op.Add), "merge", "c")
                    .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                            .activation(Activation.SOFTMAX).build(), "sum")
                    .setOutputs("out").build();
            ComputationGraph net = new ComputationGraph(conf);
            net.init();
            return net;
        };
        DataSet indices = classification(new long[] {8, 1}, 3, 3);
        indices.getFeatures().muli(19).assign(indices.getFeatures().castTo(DataType.INT32).castTo(DataType.FLOAT));
        return Stream.of(
                Arguments.of("dense+dropout+batchnorm+output", denseDropoutBatchNorm, classification(new long[] {8, 6}, 3, 1)),
                Arguments.of("conv2d+subsampling", conv2d, classification(new long[] {8, 1, 8, 8}, 3, 2)),
                Arguments.of("conv1d+rnnoutput", conv1dRnn, sequence(4, 10, 5, 3, false)),
                Arguments.of("embeddingsequence+lstm+selfattention", embeddingLstmAttention, sequence(4, 6, 50, 3, true)),
                Arguments.of("embedding", embedding, indices),
                Arguments.of("graph merge+elementwise", graph, classification(new long[] {8, 6}, 3, 4)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("zoo")
    void convertsBothWaysAndTrainsInBothModes(String name, Supplier<Model> factory, DataSet data) {
        Model fp32 = factory.get();
        TestNets.fit(fp32, data, 1);

        ConversionResult<Model> grid = Bf16Converter.toBf16Grid(fp32);
        double gridScore = TestNets.fit(grid.getNetwork(), data, 5);
        assertTrue(Double.isFinite(gridScore), name + " BF16-grid loss " + gridScore);
        ConversionResult<Model> bf16 = Bf16Converter.toBfloat16(fp32);
        assertEquals(DataType.BFLOAT16, bf16.getNetwork().params().dataType());
        double bf16Score = TestNets.fit(bf16.getNetwork(), TestNets.as(data, DataType.BFLOAT16), 5);
        assertTrue(Double.isFinite(bf16Score), name + " BFLOAT16 loss " + bf16Score);

        for (ConversionResult<Model> r : java.util.List.of(grid, bf16)) {
            Model back = Bf16Converter.toFp32(r.getNetwork()).getNetwork();
            assertEquals(r.getNetwork().params().castTo(DataType.FLOAT), back.params(), name + ": exact way back");
            assertTrue(Double.isFinite(TestNets.fit(back, data, 2)), name + " FP32 after the round trip");
        }
        System.out.println("RESULT layer_zoo model=\"" + name + "\" bf16_grid_loss=" + gridScore + " bfloat16_loss="
                + bf16Score + " changed=" + bf16.getReport().getChanged().size());
    }
}
