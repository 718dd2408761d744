import { execFileSync } from "node:child_process";

/**
 * A Python that can `import torch` — the one on PATH, or Debian's (apt-get install python3-torch)
 * — for the optional cross-checks against PyTorch; undefined where there is none.
 */
export const torchPython: string | undefined = ["python3", "/usr/bin/python3"].find((python) => {
  try {
    execFileSync(python, ["-c", "import torch"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
});
