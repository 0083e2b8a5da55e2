import { benchDecide, printDecide } from "./decide.bench.js";
import { benchSignature, printSignature } from "./signature.bench.js";
console.log(printDecide(benchDecide(1000)).join("\n"));
console.log(printSignature(benchSignature(1500)).join("\n"));
