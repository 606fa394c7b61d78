import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

/**
 * A uPlot chart (canvas) sized to its container's width; rebuilt when `data` or `series` change. `label` names the
 * figure for screen readers (the numbers are in the tables beside it). x values are Unix seconds.
 */
export function UPlotChart({ label, data, series, height = 220, yLabel }: { label: string; data: uPlot.AlignedData; series: uPlot.Series[]; height?: number; yLabel?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const chart = new uPlot(
      {
        width: Math.max(el.clientWidth, 300),
        height,
        series: [{}, ...series],
        axes: [{}, { label: yLabel }],
        scales: { x: { time: true } },
      },
      data,
      el,
    );
    const ro = new ResizeObserver(() => chart.setSize({ width: Math.max(el.clientWidth, 300), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      chart.destroy();
    };
  }, [data, series, height, yLabel]);
  return <div ref={box} role="img" aria-label={label} />;
}
