package org.dl4jsr.examples.lm;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** PNG plots of the LM runs (JFreeChart, headless). */
final class LmCharts {
    private static final Color[] COLOURS = {new Color(0x1f77b4), new Color(0x2ca02c), new Color(0xd62728),
        new Color(0xff7f0e)};

    private LmCharts() {
    }

    /**
     * Validation loss vs step of the four strategies (top), and each strategy's validation loss relative to FP32 in
     * percent (bottom, when FP32 ran). The first point (the untrained model) is left out so that the curves are legible.
     */
    static Path validationLoss(Path file, String title, List<LmRun.Result> runs) throws IOException {
        NumberAxis step = new NumberAxis("training step");
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(step);
        plot.add(panel(runs, "validation loss (nats/byte)", p -> p.validationLoss(), null), 3);
        LmRun.Result fp32 = LmReport.reference(runs);
        if (fp32 != null) {
            plot.add(panel(runs, "val loss vs FP32 (%)", p -> p.validationLoss(), fp32), 2);
        }
        return save(file, new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true));
    }

    /** Fraction of updates below half a BF16 step, per evaluation window, and the learning rate. */
    static Path stalled(Path file, String title, List<LmRun.Result> runs) throws IOException {
        NumberAxis step = new NumberAxis("training step");
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(step);
        plot.add(panel(runs, "fraction of updates below half a BF16 step", p -> p.stalledFraction(), null), 3);
        XYSeriesCollection lr = new XYSeriesCollection();
        XYSeries s = new XYSeries("learning rate");
        for (LmRun.Point p : runs.get(0).curve()) {
            s.add(p.step(), p.learningRate());
        }
        lr.addSeries(s);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        renderer.setSeriesPaint(0, Color.DARK_GRAY);
        plot.add(new XYPlot(lr, null, axis("learning rate"), renderer), 1);
        return save(file, new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true));
    }

    private static XYPlot panel(List<LmRun.Result> runs, String label, ToDoubleFunction<LmRun.Point> y,
                                LmRun.Result relativeTo) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (LmRun.Result r : runs) {
            XYSeries s = new XYSeries(r.strategy().label());
            List<LmRun.Point> curve = r.curve();
            for (int i = 1; i < curve.size(); i++) {
                double v = y.applyAsDouble(curve.get(i));
                if (relativeTo != null) {
                    v = 100 * (v / y.applyAsDouble(relativeTo.curve().get(i)) - 1);
                }
                if (Double.isFinite(v)) {
                    s.add(curve.get(i).step(), v);
                }
            }
            data.addSeries(s);
        }
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < runs.size(); i++) {
            renderer.setSeriesPaint(i, COLOURS[runs.get(i).strategy().ordinal() % COLOURS.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
            renderer.setSeriesVisibleInLegend(i, relativeTo == null); // one legend entry per strategy
        }
        return new XYPlot(data, null, axis(label), renderer);
    }

    private static NumberAxis axis(String label) {
        NumberAxis a = new NumberAxis(label);
        a.setAutoRangeIncludesZero(false);
        return a;
    }

    private static Path save(Path file, JFreeChart chart) throws IOException {
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 1000, 700);
        return file;
    }
}
