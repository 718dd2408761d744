import { describeContract } from "./properties.js";

/** The contract, as properties over random cases, for the categorical losses. */
describeContract("the masked-loss contract", ["categoricalCrossEntropy", "sparseCategoricalCrossEntropy"]);
