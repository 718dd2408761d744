import { describeContract } from "./properties.js";

/** The contract, as properties over random cases, for the elementwise losses. */
describeContract("the masked-loss contract", ["binaryCrossEntropy", "meanSquaredError", "meanAbsoluteError", "huber"]);
