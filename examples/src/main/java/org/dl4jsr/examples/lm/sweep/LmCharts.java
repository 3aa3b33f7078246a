package org.dl4jsr.examples.lm.sweep;

import org.dl4jsr.examples.lm.LmConfig;
import org.dl4jsr.examples.lm.LmRun;
import org.dl4jsr.examples.lm.PrecisionStrategy;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.axis.LogAxis;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import org.jfree.chart.axis.NumberTick;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** PNG plots of the LM runs (JFreeChart, headless). */
public final class LmCharts {
    private static final Color[] COLOURS = {new Color(0x1f77b4), new Color(0x2ca02c), new Color(0xd62728),
        new Color(0xff7f0e), new Color(0x9467bd)};

    private LmCharts() {
    }

    /**
     * Validation loss vs step of the four strategies (top), and each strategy's validation loss relative to FP32 in
     * percent (bottom, when FP32 ran). The first point (the untrained model) is left out so that the curves are legible.
     */
    public static Path validationLoss(Path file, String title, List<LmRun.Result> runs) throws IOException {
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
    public static Path stalled(Path file, String title, List<LmRun.Result> runs) throws IOException {
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

    /**
     * Validation perplexity against peak learning rate (log scale), one line per strategy: top, mean over seeds with
     * error bars of one standard deviation; bottom, the difference from FP32 paired by seed, mean with its 95%
     * confidence interval (t * standard error; the bar crosses 0 exactly when the difference does not exceed the seed
     * spread). Points of one rate are shifted apart by a few percent so that the bars do not overlap. Diverged runs
     * are left out and listed under the title.
     */
    public static Path perplexityVsLearningRate(Path file, LmConfig c, List<LmRun.Result> runs) throws IOException {
        List<SeedStats.Cell> cells = SeedStats.aggregate(LmReport.seedRuns(c, runs));
        YIntervalSeriesCollection ppl = new YIntervalSeriesCollection();
        YIntervalSeriesCollection diff = new YIntervalSeriesCollection();
        List<String> diverged = new ArrayList<>();
        int n = PrecisionStrategy.values().length;
        for (PrecisionStrategy s : PrecisionStrategy.values()) {
            YIntervalSeries p = new YIntervalSeries(s.label());
            YIntervalSeries d = new YIntervalSeries(s.label());
            double shift = Math.pow(1.04, s.ordinal() - (n - 1) / 2.0);
            for (SeedStats.Cell x : cells) {
                if (x.strategy() != s) {
                    continue;
                }
                double lr = c.peakLr * x.multiplier() * shift;
                if (x.diverged() > 0) {
                    diverged.add(String.format(Locale.ROOT, "%s %d/%d at %sx", s.id(), x.diverged(), x.runs(),
                            TrainedRatesAxis.label(x.multiplier())));
                }
                if (x.finished() > 0) {
                    double sd = Double.isNaN(x.sdPerplexity()) ? 0 : x.sdPerplexity();
                    p.add(lr, x.meanPerplexity(), x.meanPerplexity() - sd, x.meanPerplexity() + sd);
                }
                if (s != PrecisionStrategy.FP32 && x.pairs() > 0) {
                    double ci = Double.isNaN(x.ciHalfWidthPercent()) ? 0 : x.ciHalfWidthPercent();
                    d.add(lr, x.meanDiffPercent(), x.meanDiffPercent() - ci, x.meanDiffPercent() + ci);
                }
            }
            ppl.addSeries(p);
            diff.addSeries(d);
        }
        LogAxis lr = new TrainedRatesAxis(c.peakLr, c.lrMultipliers);
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(lr);
        plot.add(new XYPlot(ppl, null, axis("perplexity/byte (mean +- sd)"), errorRenderer()), 3);
        XYErrorRenderer second = errorRenderer();
        for (PrecisionStrategy s : PrecisionStrategy.values()) {
            second.setSeriesVisibleInLegend(s.ordinal(), false); // one legend entry per strategy
        }
        plot.add(new XYPlot(diff, null, axis("vs FP32 by seed (%, 95% CI)"), second), 2);
        String title = String.format(Locale.ROOT, "Byte-level GPT, %d steps, up to %d seeds per point", c.steps,
                c.seeds);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.addSubtitle(new TextTitle(diverged.isEmpty() ? "no run diverged"
                : "diverged (left out): " + String.join(", ", diverged)));
        return save(file, chart);
    }

    /**
     * A log axis whose ticks are the peak rates actually trained, labelled with the rate and its multiple of the
     * default ("0.001 (0.5x)"). LogAxis's own ticks, rounded to a few decimals, printed the same label several times.
     */
    static final class TrainedRatesAxis extends LogAxis {
        private static final long serialVersionUID = 1L;
        private final double peakLr;
        private final List<Double> multipliers;

        TrainedRatesAxis(double peakLr, List<Double> multipliers) {
            super("peak learning rate (log scale; x = multiple of the default " + label(peakLr) + ")");
            this.peakLr = peakLr;
            this.multipliers = List.copyOf(multipliers);
            setSmallestValue(1e-9);
        }

        @Override
        @SuppressWarnings("rawtypes")
        protected List refreshTicksHorizontal(Graphics2D g2, Rectangle2D dataArea, RectangleEdge edge) {
            return ticks();
        }

        /** One tick per trained rate, in the order given. */
        List<NumberTick> ticks() {
            List<NumberTick> ticks = new ArrayList<>();
            for (double m : multipliers) {
                ticks.add(new NumberTick(peakLr * m, label(peakLr * m) + " (" + label(m) + "x)",
                        TextAnchor.TOP_CENTER, TextAnchor.CENTER, 0.0));
            }
            return ticks;
        }

        /** A number with as many digits as it needs and no more (4 significant digits at most). */
        static String label(double value) {
            return new java.math.BigDecimal(value).round(new java.math.MathContext(4)).stripTrailingZeros()
                    .toPlainString();
        }
    }

    private static XYErrorRenderer errorRenderer() {
        XYErrorRenderer r = new XYErrorRenderer();
        r.setDefaultLinesVisible(true);
        r.setDrawXError(false);
        r.setCapLength(6);
        for (PrecisionStrategy s : PrecisionStrategy.values()) {
            r.setSeriesPaint(s.ordinal(), COLOURS[s.ordinal() % COLOURS.length]);
            r.setSeriesStroke(s.ordinal(), new BasicStroke(2f));
        }
        return r;
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
                    // a diverged reference has a shorter curve
                    v = i < relativeTo.curve().size() ? 100 * (v / y.applyAsDouble(relativeTo.curve().get(i)) - 1)
                            : Double.NaN;
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
