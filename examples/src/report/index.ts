/** Self-contained HTML reports with inline SVG charts, for the example programs. */
export { escapeHtml, formatNumber, paragraph, renderReport, table, type ReportOptions, type ReportSection } from "./html.js";
export {
  PALETTE,
  barChart,
  confusionMatrix,
  lineChart,
  niceTicks,
  type BarChartOptions,
  type ConfusionMatrixOptions,
  type LineChartOptions,
  type Series,
  type Ticks,
} from "./svg.js";
