import { describeContract } from "./properties.js";

/** The contract, as properties over random cases, for a loss defined outside the package with defineLoss. */
describeContract("the masked-loss contract (user-defined with defineLoss)", ["logCosh"]);
