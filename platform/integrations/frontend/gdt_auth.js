// Bundled at install (make install → esbuild) into node_modules/mdtj-bundles/gdt-auth.js and served
// locally: the two gdt-jsapi calls the 政钉 免登 page needs, as window.gdtAuth (no CDN on the intranet).
import getAuthCode from "gdt-jsapi/getAuthCode";
import ready from "gdt-jsapi/ready";

window.gdtAuth = { getAuthCode, ready };
