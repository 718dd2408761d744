import { fmtShape } from "@zerograd/tensor";
import type { Tensor } from "./tensor.js";

/**
 * The graph behind a tensor in Graphviz DOT: a box per tensor (name, shape, whether it is a
 * leaf that requires grad) and an ellipse per op, arrows in the direction data flows.
 * Render with `dot -Tsvg graph.dot > graph.svg`.
 */
export function toDot(root: Tensor, options: { title?: string } = {}): string {
  const lines = ["digraph zerograd {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];'];
  if (options.title) lines.push(`  label=${quote(options.title)}; labelloc=t;`);
  const seen = new Set<Tensor>();
  const stack = [root];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const label = `${t.name ? `${t.name} ` : ""}${fmtShape(t.shape)}${t.isLeaf && t.requiresGrad ? "\\nrequiresGrad" : ""}`;
    const fill = t === root ? "#fde68a" : t.isLeaf ? (t.requiresGrad ? "#bfdbfe" : "#e5e7eb") : "#ffffff";
    lines.push(`  t${t.id} [shape=box, style=filled, fillcolor="${fill}", label=${quote(label)}];`);
    if (t.node) {
      lines.push(`  op${t.id} [shape=ellipse, label=${quote(t.node.op.name)}];`);
      lines.push(`  op${t.id} -> t${t.id};`);
      for (const input of t.node.inputs) {
        lines.push(`  t${input.id} -> op${t.id};`);
        stack.push(input);
      }
    }
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

function quote(s: string): string {
  return `"${s.replace(/\\(?!n)/g, "\\\\").replace(/"/g, '\\"')}"`;
}
